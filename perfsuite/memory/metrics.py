"""The memory app's metrics and what it records into them.

Gauges are per process (the store keeps one value per ``host:pid``), so a panel
shows each worker's memory and its last cleanup. Recorded at each check of the
middleware and at each cleanup, never per request.
"""

from __future__ import annotations

import time

from perfsuite.core import metrics

from .usage import MemoryReading

RSS = metrics.gauge("perfsuite_memory_rss_bytes", "Resident memory of the process")
USS = metrics.gauge(
    "perfsuite_memory_uss_bytes", "Memory only this process holds (freed if it exits)"
)
CONTAINER_USAGE = metrics.gauge(
    "perfsuite_memory_container_usage_bytes", "Memory the process's cgroup uses"
)
CONTAINER_LIMIT = metrics.gauge(
    "perfsuite_memory_container_limit_bytes", "Memory limit of the process's cgroup"
)
ALLOCATED_BLOCKS = metrics.gauge(
    "perfsuite_memory_allocated_blocks", "Memory blocks Python has allocated (objects)"
)
CHECKS = metrics.counter("perfsuite_memory_checks", "Memory checks of the middleware")
CLEANUPS = metrics.counter("perfsuite_memory_cleanups", "Memory cleanups, by reason", ("reason",))
SKIPPED = metrics.counter(
    "perfsuite_memory_cleanups_skipped",
    "Cleanups not run: another was running or one ran within the cooldown",
    ("reason",),
)
FREED = metrics.counter("perfsuite_memory_freed_bytes", "RSS given back by cleanups")
LAST_CLEANUP_TIME = metrics.gauge(
    "perfsuite_memory_last_cleanup_time", "When the process last cleaned up (epoch seconds)"
)
LAST_CLEANUP_FREED = metrics.gauge(
    "perfsuite_memory_last_cleanup_freed_bytes", "RSS the process's last cleanup gave back"
)
RECYCLES = metrics.counter(
    "perfsuite_memory_recycles", "gunicorn workers retired by the memory hooks", ("reason",)
)

#: the values of the ``reason`` label of ``perfsuite_memory_cleanups``
REASONS = ("threshold_mb", "threshold_percent", "manual")
#: the values of the ``reason`` label of ``perfsuite_memory_cleanups_skipped``
SKIP_REASONS = ("cooldown", "busy")
#: the values of the ``reason`` label of ``perfsuite_memory_recycles``
RECYCLE_REASONS = ("rss",)


def record_reading(reading: MemoryReading, check: bool = False) -> None:
    """The process's memory into its gauges; ``check``: count a middleware check."""
    RSS.set(reading.rss)
    if reading.uss is not None:
        USS.set(reading.uss)
    if reading.container_usage is not None:
        CONTAINER_USAGE.set(reading.container_usage)
    if reading.container_limit is not None:
        CONTAINER_LIMIT.set(reading.container_limit)
    ALLOCATED_BLOCKS.set(reading.allocated_blocks)
    if check:
        CHECKS.inc()


def record_cleanup(reason: str, freed_bytes: int) -> None:
    """A cleanup that ran; ``freed_bytes`` may be negative (memory grew meanwhile)."""
    CLEANUPS.labels(reason if reason in REASONS else "manual").inc()
    if freed_bytes > 0:
        FREED.inc(freed_bytes)
    LAST_CLEANUP_TIME.set(time.time())
    LAST_CLEANUP_FREED.set(max(freed_bytes, 0))


def record_skipped(reason: str) -> None:
    SKIPPED.labels(reason if reason in SKIP_REASONS else "busy").inc()


def record_recycle(reason: str) -> None:
    """A worker retired by perfsuite.memory.gunicorn (counted by the retiring worker)."""
    RECYCLES.labels(reason if reason in RECYCLE_REASONS else "rss").inc()
