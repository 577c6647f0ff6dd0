"""Sending a registry's deltas to its store: the background thread, retries, outages.

One :class:`Flusher` per registry and process. Every ``FLUSH_INTERVAL`` seconds
its thread drains the registry and writes the batch to the store. A batch that
failed is kept *unchanged* (same number: the Redis store applies it at most
once) and sent before anything newer. After a failure the store is skipped by a
circuit breaker (1 s, doubling up to 30 s, one probe each time), so a hung Redis
costs one socket timeout per interval, never a request. What an outage buffers is
bounded by ``MAX_BUFFERED_SERIES``; the oldest minutes beyond it are dropped and
counted. The thread is started on the first recording, again after a fork, and a
process that exits cleanly flushes first (``atexit`` and multiprocessing
finalizers).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from .breaker import Breaker
from .conf import perf_settings
from .logs import Throttled
from .series import Batch

if TYPE_CHECKING:
    from .registry import Registry

logger = logging.getLogger("perfsuite.metrics")

_time = time.time
#: seconds between two looks for the journals of killed processes
RECOVERY_INTERVAL = 5.0


class Flusher:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.lock = threading.Lock()
        self.carry: Batch | None = None
        self.breaker = Breaker("metrics store", base=1.0, cap=30.0)
        self.dropped = 0
        self._dropped_unsent = 0
        self._failing_since: float | None = None
        self._warnings = Throttled(logger, 60.0)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def pending_size(self) -> int:
        return self.carry.size() if self.carry is not None else 0

    # -- one flush -----------------------------------------------------
    def flush(self) -> bool:
        """Hand every buffered delta to the store; False when the store failed."""
        registry = self.registry
        with self.lock:
            store = registry.store
            # The batch a failure left behind (resent unchanged), then what came since.
            for _ in range(2):
                batch = self.carry  # (emptied by _bound in a long outage)
                if not batch:
                    batch = registry._drain()
                if not batch:
                    break
                self.carry = batch
                if not self.breaker.allow():
                    self._bound()
                    return False
                try:
                    store.write(batch)
                except Exception as exc:
                    self.breaker.failure()
                    self._bound()
                    self._warn(exc)
                    return False
                self.breaker.success()
                self.carry = None
                registry._batch_applied(batch)
            self._recovered()
            return True

    def _recovered(self) -> None:
        if self._dropped_unsent:
            # Recorded once the store is back, so the count itself is never dropped.
            self.registry.dropped_counter.inc(self._dropped_unsent)
            self._dropped_unsent = 0
        if self._failing_since is not None:
            logger.warning(
                "perfsuite metrics store is reachable again after %.0fs; buffered deltas sent",
                _time() - self._failing_since,
            )
            self._failing_since = None

    def _bound(self) -> None:
        """Keep at most ``MAX_BUFFERED_SERIES`` buffered series-minutes; count the rest."""
        try:
            limit = int(perf_settings.MAX_BUFFERED_SERIES)
        except Exception:
            limit = 50000
        registry = self.registry
        dropped = 0
        with registry._lock:
            registry._collect()
            carry = self.carry
            size = sum(len(d) for d in registry._closed.values())
            size += carry.size() if carry is not None else 0
            while size > limit:
                if carry is not None and carry.minutes:
                    minutes = carry.minutes
                elif registry._closed:
                    minutes = registry._closed
                else:
                    break
                oldest = minutes.pop(min(minutes))
                size -= len(oldest)
                dropped += oldest.observations()
        if dropped:
            self.dropped += dropped
            self._dropped_unsent += dropped
            logger.warning(
                "perfsuite dropped %d buffered observations (store unreachable)", dropped
            )

    def _warn(self, exc: Exception) -> None:
        now = _time()
        if self._failing_since is None:
            self._failing_since = now
        self._warnings.warning("perfsuite metrics store unreachable, buffering deltas: %s", exc)

    # -- the thread ----------------------------------------------------
    def start(self) -> None:
        self._stop = threading.Event()
        thread = threading.Thread(target=self._run, name="perfsuite-flush", daemon=True)
        self._thread = thread
        thread.start()
        try:
            from multiprocessing import util

            # multiprocessing children end with os._exit, which skips atexit.
            ref = weakref.ref(self.registry)
            util.Finalize(None, _call, args=(ref, "close"), exitpriority=10)
        except Exception:  # pragma: no cover
            pass

    def _run(self) -> None:
        stop = self._stop
        next_recovery = 0.0
        while True:
            try:
                interval = float(perf_settings.FLUSH_INTERVAL)
            except Exception:
                interval = 1.0
            if not 0.01 <= interval <= 3600:  # also NaN: never spin, never stop
                interval = 1.0
            if stop.wait(interval):
                return
            try:
                self.flush()
                if _time() >= next_recovery and not self.breaker.is_open:
                    next_recovery = _time() + RECOVERY_INTERVAL
                    self.registry.recover_spools()
            except Exception:  # never let the thread die
                logger.exception("perfsuite metrics flush failed")

    def close(self) -> None:
        """Stop the thread and flush what is buffered (called at exit)."""
        self._stop.set()
        try:
            if self.carry is not None or self.registry.pending_size():
                self.flush()
        except Exception:
            logger.warning("perfsuite could not flush metrics at exit", exc_info=True)

    @staticmethod
    def hook_process(registry: Registry) -> None:
        """Re-arm after a fork, flush at exit: through weak references, so a registry
        that is gone (tests make many) is neither kept alive nor flushed by them."""
        ref = weakref.ref(registry)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _call(ref, "_after_fork"))
        atexit.register(_call, ref, "close")


def _call(ref: weakref.ref[Any], method: str) -> None:
    target = ref()
    if target is not None:
        getattr(target, method)()
