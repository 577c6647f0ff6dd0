"""memo_components' metrics and what the app records into them (bounded labels:
component names and data-source names, never props)."""

from __future__ import annotations

from perfsuite.core import metrics

# -- memoized renders (memo.py) -----------------------------------------------------------
RENDERS = metrics.counter(
    "perfsuite_component_renders",
    "Memoized component renders by result: hit (this process), shared_hit, miss",
    ("component", "result"),
)
EVICTIONS = metrics.counter(
    "perfsuite_component_evictions", "Renders evicted from a process's LRU", ("component",)
)
ENTRIES = metrics.gauge(
    "perfsuite_component_cache_entries", "Renders held in a process's LRU", ("component",)
)
BYTES = metrics.gauge(
    "perfsuite_component_cache_bytes", "Bytes of HTML held in a process's LRU", ("component",)
)
INVALIDATIONS = metrics.counter(
    "perfsuite_component_invalidations",
    "Model instances saved or deleted whose renders were invalidated",
    ("model",),
)

# -- virtual lists (window endpoint) -----------------------------------------------------
WINDOWS = metrics.histogram(
    "perfsuite_component_window_seconds", "Time to answer one virtual-list window", ("source",)
)

# -- lazy components (load endpoint) -----------------------------------------------------
LAZY_LOADS = metrics.counter(
    "perfsuite_component_lazy_loads",
    "Lazy component loads by result: ok, error",
    ("component", "result"),
)


def record_render(component: str, result: str) -> None:
    RENDERS.labels(component, result).inc()


def record_eviction(component: str, count: int = 1) -> None:
    EVICTIONS.labels(component).inc(count)


def record_size(component: str, entries: int, size: int) -> None:
    ENTRIES.labels(component).set(entries)
    BYTES.labels(component).set(size)


def record_invalidation(model: str) -> None:
    INVALIDATIONS.labels(model).inc()


def record_window(source: str, seconds: float) -> None:
    WINDOWS.labels(source).observe(seconds)


def record_lazy_load(component: str, ok: bool) -> None:
    LAZY_LOADS.labels(component, "ok" if ok else "error").inc()
