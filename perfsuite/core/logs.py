"""Warnings that say once per interval what every request would otherwise repeat.

A backend that is down fails every request; logging each failure would fill the
logs (and cost I/O on the hot path). :class:`Throttled` lets one warning through
per interval and counts the ones it held back, which the next warning reports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any


class Throttled:
    """At most one warning per ``interval`` seconds (a number or a settings getter)."""

    def __init__(
        self, logger: logging.Logger, interval: float | Callable[[], float] = 60.0
    ) -> None:
        self.logger = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._last = -float("inf")
        self.suppressed = 0

    @property
    def interval(self) -> float:
        value = self._interval
        return float(value() if callable(value) else value)

    def warning(self, message: str, *args: Any) -> bool:
        """Log ``message`` if the interval has passed since the last one; True if logged."""
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                self.suppressed += 1
                return False
            self._last = now
            held, self.suppressed = self.suppressed, 0
        if held:
            message += f" ({held} more since the last warning)"
        self.logger.warning(message, *args)
        return True

    def reset(self) -> None:
        with self._lock:
            self._last = -float("inf")
            self.suppressed = 0
