"""A circuit breaker: skip a failing backend for a while instead of waiting on it.

Every request that talks to a hung Redis pays the full socket timeout. After a
failure, :class:`Breaker` tells its callers to skip the backend for a back-off
interval that doubles with each consecutive failure up to a cap; when the
interval is over, exactly one caller is let through as a probe. A success closes
the breaker at once, so recovery is picked up by the first probe after the
backend returns.

    breaker = Breaker("response cache")
    if breaker.allow():
        try:
            value = backend.get(...)
        except Exception:
            breaker.failure()
        else:
            breaker.success()

The closed fast path is one attribute read; state changes take a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class Breaker:
    """Closed (calls go through), open (calls are skipped) or probing (one call)."""

    __slots__ = ("_clock", "_failures", "_lock", "_open_until", "base", "cap", "name")

    def __init__(
        self, name: str, *, base: float = 1.0, cap: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        self.name = name
        self.base = float(base)
        self.cap = float(cap)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        #: 0.0 while closed; else the moment the next probe may go through
        self._open_until = 0.0

    @property
    def failures(self) -> int:
        """Consecutive failures since the last success."""
        return self._failures

    @property
    def is_open(self) -> bool:
        return self._open_until != 0.0

    def allow(self) -> bool:
        """May the caller use the backend now? While open, one probe per interval."""
        if self._open_until == 0.0:
            return True
        now = self._clock()
        with self._lock:
            if self._open_until == 0.0:
                return True
            if now < self._open_until:
                return False
            # This caller probes; the others keep skipping for one more interval.
            self._open_until = now + self._delay()
            return True

    def success(self) -> None:
        if self._open_until != 0.0 or self._failures:
            with self._lock:
                self._failures = 0
                self._open_until = 0.0

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._open_until = self._clock() + self._delay()

    def reset(self) -> None:
        self.success()

    def _delay(self) -> float:
        exponent = max(0, min(self._failures - 1, 30))
        return min(self.cap, self.base * (2**exponent))

    def retry_in(self) -> float:
        """Seconds until the next probe may go through (0 when closed)."""
        if self._open_until == 0.0:
            return 0.0
        return max(0.0, self._open_until - self._clock())
