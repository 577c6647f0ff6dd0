"""Counters, gauges and latency histograms with bounded label sets.

Recording is on the hot path of every request: it takes a lock, updates a dict
in memory and returns, with no network round trip. A background thread (started
on the first recording in each process, and again after a fork) drains the
deltas to the configured store every ``FLUSH_INTERVAL`` seconds; the store is the
local process or Redis (see :mod:`perfsuite.core.stores`). A process that exits
cleanly flushes first (``atexit`` and multiprocessing finalizers).

    from perfsuite.core import metrics

    REQUESTS = metrics.counter("http_requests", "Requests", ("route", "status"))
    LATENCY = metrics.histogram("http_request_seconds", "Latency", ("route",))

    REQUESTS.labels("shop:products", "2xx").inc()
    LATENCY.labels("shop:products").observe(0.012)
    snapshot = metrics.registry.snapshot("5m")

The pieces: :mod:`.instruments` (the metric API), :mod:`.registry` (series and
their deltas), :mod:`.flusher` (sending them, outages, fork and exit).
"""

from __future__ import annotations

from collections.abc import Sequence

from .conf import perf_settings
from .instruments import OTHER, OVERFLOW_METRIC, Counter, Gauge, Histogram, Metric
from .registry import DROPPED_METRIC, Registry

__all__ = [
    "DROPPED_METRIC",
    "OTHER",
    "OVERFLOW_METRIC",
    "Counter",
    "Gauge",
    "Histogram",
    "Metric",
    "Registry",
    "counter",
    "gauge",
    "histogram",
    "registry",
]

#: the registry of this process, configured from ``PERFSUITE``
registry = Registry()


def _on_settings_change() -> None:
    registry.configure()


perf_settings.on_change(_on_settings_change)


def counter(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Counter:
    return registry.counter(name, documentation, labelnames)


def gauge(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Gauge:
    return registry.gauge(name, documentation, labelnames)


def histogram(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Histogram:
    return registry.histogram(name, documentation, labelnames)
