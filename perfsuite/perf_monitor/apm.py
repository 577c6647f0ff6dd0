"""The guide's monitoring APIs, backed by the shared metrics registry.

``perf_monitor`` (a :class:`PerformanceMonitor`) and ``apm`` (an
:class:`APMCollector`) are module-level defaults, as in the guide. Because they
record into ``perfsuite.core.metrics``, their figures cover every process when the
Redis store is configured, and memory stays bounded (histograms, not sample lists).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from perfsuite.core.metrics import registry

from . import metrics
from .metrics import APM_COUNTER, APM_METRIC

F = TypeVar("F", bound=Callable[..., Any])


def _key(name: str, tags: Sequence[str] | None) -> str:
    return f"{name}:{':'.join(tags or [])}"


def _tags(tags: Sequence[str] | None) -> str:
    return ":".join(str(t) for t in tags or [])


class PerformanceMonitor:
    """Request totals and process resources (the guide's ``PerformanceMonitor``)."""

    def track_request(self, response_time: float, route: str = "<manual>") -> None:
        metrics.LATENCY.labels(route, "OTHER", "2xx").observe(response_time)

    def track_resources(self) -> dict[str, float]:
        sample = metrics.sampler.sample()
        cpu = sample["cpu"]
        rss = float(sample["rss"] or 0)
        # The first sample of a process measures no interval: report the average
        # since the process started instead of a figure over a few microseconds.
        return {"rss": rss, "cpu": cpu if cpu is not None else metrics.sampler.cpu_since_start()}

    def get_metrics(self, window: str = "all") -> dict[str, float]:
        sample = self.track_resources()
        snap = registry.snapshot(window)
        hist = snap.histogram(metrics.REQUEST_SECONDS)
        return {
            "requests_processed": hist.count,
            "total_response_time": hist.sum,
            "avg_response_time": hist.sum / hist.count if hist.count else 0.0,
            "memory_usage": sample["rss"] / 1024 / 1024,
            "cpu_usage": sample["cpu"],
        }


class APMCollector:
    """Named metrics and counters with tags (the guide's ``APMCollector``)."""

    def __init__(self) -> None:
        self.start_time = time.time()

    def record_metric(self, name: str, value: float, tags: Sequence[str] | None = None) -> None:
        metrics.APM_METRICS.labels(name, _tags(tags)).observe(value)

    def increment_counter(self, name: str, tags: Sequence[str] | None = None) -> None:
        metrics.APM_COUNTERS.labels(name, _tags(tags)).inc()

    @staticmethod
    def _stats(hist: Any, mapping: Any) -> dict[str, float] | None:
        if not hist.count:
            return None
        return {
            "count": hist.count,
            "min": hist.min,
            "max": hist.max,
            "mean": hist.mean,
            "median": hist.quantile(0.5, mapping),
            "p95": hist.quantile(0.95, mapping),
            "p99": hist.quantile(0.99, mapping),
        }

    def get_metric_stats(
        self, name: str, tags: Sequence[str] | None = None, window: str = "all"
    ) -> dict[str, float] | None:
        snap = registry.snapshot(window)
        return self._stats(snap.histogram(APM_METRIC, metric=name, tags=_tags(tags)), snap.mapping)

    def get_dashboard_data(self, window: str = "all") -> dict[str, Any]:
        return self.dashboard_from_snapshot(registry.snapshot(window))

    def dashboard_from_snapshot(self, snap: Any) -> dict[str, Any]:
        counters = {
            _key(
                s.labels["counter"], s.labels["tags"].split(":") if s.labels["tags"] else []
            ): s.value
            for s in snap.series(APM_COUNTER)
        }
        data: dict[str, Any] = {}
        for key, hist in snap.histograms.items():
            if key.name == APM_METRIC:
                labels = key.label_dict
                tags = labels["tags"].split(":") if labels["tags"] else []
                data[_key(labels["metric"], tags)] = self._stats(hist, snap.mapping)
        return {
            "uptime_seconds": time.time() - self.start_time,
            "counters": counters,
            "metrics": data,
        }


perf_monitor = PerformanceMonitor()
apm = APMCollector()


def monitor_performance(
    metric_name: str | None = None, tags: Sequence[str] | None = None
) -> Callable[[F], F]:
    """Record execution time and success/error counts of a sync or async function.

    Like the guide: ``execution_time`` with tag ``function:<name>`` and
    ``function_calls`` with ``status:success`` / ``status:error``, plus ``tags``.
    Exceptions are re-raised; name, docstring and signature are kept.
    """
    extra = list(tags or [])

    def decorator(func: F) -> F:
        name = metric_name or f"{func.__module__}.{func.__qualname__}"
        time_tags = _tags([f"function:{name}", *extra])
        ok_tags = _tags(["status:success", *extra])
        error_tags = _tags(["status:error", *extra])
        series: list[Any] = []

        def resolve() -> list[Any]:
            # Resolved on the first call, not at import time (settings may not be ready).
            if not series:
                series.extend(
                    (
                        metrics.APM_METRICS.labels("execution_time", time_tags),
                        metrics.APM_COUNTERS.labels("function_calls", ok_tags),
                        metrics.APM_COUNTERS.labels("function_calls", error_tags),
                    )
                )
            return series

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                timer, ok, failed = resolve()
                start = time.perf_counter()
                try:
                    result = await func(*args, **kwargs)
                except BaseException:
                    failed.inc()
                    raise
                else:
                    ok.inc()
                    return result
                finally:
                    timer.observe(time.perf_counter() - start)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            timer, ok, failed = resolve()
            start = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                failed.inc()
                raise
            else:
                ok.inc()
                return result
            finally:
                timer.observe(time.perf_counter() - start)

        return wrapper  # type: ignore[return-value]

    return decorator
