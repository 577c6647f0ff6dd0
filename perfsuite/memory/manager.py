"""``MemoryManager``: the guide's memory monitor, per process.

    from perfsuite.memory.manager import memory_manager

    memory_manager.get_memory_usage()  # {"rss_mb": 81.2, "percent": 4.1, ...}
    if memory_manager.should_cleanup():
        memory_manager.cleanup_memory()  # gc, clearable caches, malloc_trim

Thresholds, cooldown and the cache fraction come from ``PERFSUITE`` (read at
each call) unless the constructor sets them. A cleanup runs at most once per
``MEMORY_CLEANUP_COOLDOWN`` seconds, and never twice at once: a caller that
finds one running or too recent gets ``skipped`` instead of waiting.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

from perfsuite.core import caches
from perfsuite.core.conf import perf_settings

from . import cleanup, metrics
from .usage import MB, MemoryReading, ProcessMemory

_monotonic = time.monotonic
_perf_counter = time.perf_counter


class MemoryManager:
    """Monitor and manage this process's memory."""

    def __init__(
        self,
        max_memory_mb: float | None = None,
        *,
        threshold_percent: float | None = None,
        cooldown: float | None = None,
        cache_keep: float | None = None,
        reader: ProcessMemory | None = None,
    ) -> None:
        self.max_memory_mb = max_memory_mb
        self.threshold_percent = threshold_percent
        self.cooldown = cooldown
        self.cache_keep = cache_keep
        self.reader = reader or ProcessMemory()
        self.tracked_objects: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._last_cleanup = -float("inf")
        #: what the last cleanup of this process did (``cleanup_memory``'s result and
        #: ``at``, epoch seconds), None before the first
        self.last_result: dict[str, Any] | None = None
        _managers.add(self)

    # -- the guide's API -------------------------------------------------------
    def track_object(self, obj: Any) -> None:
        """Count ``obj`` in ``tracked_objects`` while it lives (a weak reference)."""
        try:
            self.tracked_objects.add(obj)
        except TypeError:
            kind = type(obj).__name__
            raise TypeError(
                f"cannot track a {kind!r} object: it cannot be weakly referenced "
                f"(dict, list, tuple, int, str and classes with __slots__ without "
                f"'__weakref__' cannot). Wrap it in an instance of a class of your own "
                f"(class Tracked: __init__ keeps the {kind} in an attribute) and track that."
            ) from None

    def read(self, uss: bool = True) -> MemoryReading:
        """This process's memory now, in bytes (``uss=False`` skips the costlier USS)."""
        return self.reader.read(uss=uss)

    def get_memory_usage(self) -> dict[str, Any]:
        """``rss_mb``, ``vms_mb``, ``percent``, ``tracked_objects``, ``uss_mb``,
        ``allocated_blocks``, ``container_limit_mb`` and ``container_usage_mb``."""
        return self.read().as_dict(len(self.tracked_objects))

    def cleanup_reason(self, reading: MemoryReading | None = None) -> str | None:
        """``"threshold_mb"`` or ``"threshold_percent"`` when over the threshold, else None."""
        if reading is None:
            reading = self.read(uss=False)
        limit_mb = self.max_memory_mb
        if limit_mb is None:
            limit_mb = perf_settings.MEMORY_THRESHOLD_MB
        if limit_mb is not None:
            return "threshold_mb" if reading.rss / MB > limit_mb else None
        percent = self.threshold_percent
        if percent is None:
            percent = perf_settings.MEMORY_THRESHOLD_PERCENT
        return "threshold_percent" if reading.percent > percent else None

    def should_cleanup(self) -> bool:
        """Whether RSS is over ``MEMORY_THRESHOLD_MB``, or (when that is None) over
        ``MEMORY_THRESHOLD_PERCENT`` of the container limit or of the host's RAM."""
        return self.cleanup_reason() is not None

    def cleanup_memory(self, reason: str = "manual") -> dict[str, Any]:
        """Collect garbage, shrink the clearable caches, trim the C heap.

        Returns ``objects_collected``, ``memory_before_mb``, ``memory_after_mb``,
        ``freed_mb`` (RSS before minus after; negative if it grew meanwhile),
        ``caches`` (name -> entries removed), ``trimmed`` (``malloc_trim`` ran),
        ``duration_ms``, ``reason`` and ``skipped``: None, or ``"cooldown"`` /
        ``"busy"`` when nothing was done (then the figures are 0 and None).
        """
        if not self._lock.acquire(blocking=False):
            return self._skipped(reason, "busy")
        try:
            cooldown = self.cooldown
            if cooldown is None:
                cooldown = float(perf_settings.MEMORY_CLEANUP_COOLDOWN)
            if _monotonic() - self._last_cleanup < cooldown:
                return self._skipped(reason, "cooldown")
            return self._cleanup(reason)
        finally:
            self._lock.release()

    # -- the work ------------------------------------------------------------------
    def _cleanup(self, reason: str) -> dict[str, Any]:
        keep = self.cache_keep
        if keep is None:
            keep = float(perf_settings.MEMORY_CACHE_KEEP)
        started = _perf_counter()
        before = self.read(uss=False).rss
        collected = cleanup.collect()
        removed = caches.shrink_all(keep)  # one failing cache does not stop the others
        trimmed = cleanup.trim()
        after = self.read()
        duration = _perf_counter() - started
        self._last_cleanup = _monotonic()
        metrics.record_reading(after)
        metrics.record_cleanup(reason, before - after.rss)
        result = {
            "objects_collected": collected,
            "memory_before_mb": before / MB,
            "memory_after_mb": after.rss / MB,
            "freed_mb": (before - after.rss) / MB,
            "caches": removed,
            "trimmed": trimmed,
            "duration_ms": duration * 1000,
            "reason": reason,
            "skipped": None,
        }
        self.last_result = {**result, "at": time.time()}
        return result

    def _skipped(self, reason: str, why: str) -> dict[str, Any]:
        metrics.record_skipped(why)
        return {
            "objects_collected": 0,
            "memory_before_mb": None,
            "memory_after_mb": None,
            "freed_mb": 0.0,
            "caches": {},
            "trimmed": False,
            "duration_ms": 0.0,
            "reason": reason,
            "skipped": why,
        }

    def _after_fork(self) -> None:
        # a lock held by another thread at fork time would stay held in the child
        self._lock = threading.Lock()


_managers: weakref.WeakSet[MemoryManager] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for manager in list(_managers):
        manager._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)

#: the process's manager, as the guide's global (thresholds from ``PERFSUITE``)
memory_manager = MemoryManager()
