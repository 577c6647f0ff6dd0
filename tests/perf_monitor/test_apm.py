from __future__ import annotations

import asyncio
import inspect

import pytest

from perfsuite.perf_monitor.apm import APMCollector, apm, monitor_performance, perf_monitor


@monitor_performance("tests.double", ["layer:unit"])
def double(x: int, *, factor: int = 2) -> int:
    """Double it."""
    if x < 0:
        raise ValueError("negative")
    return x * factor


@monitor_performance()
async def fetch(x: int) -> int:
    await asyncio.sleep(0)
    if x < 0:
        raise KeyError(x)
    return x + 1


class Service:
    @monitor_performance("service.method")
    def run(self, n: int) -> int:
        return n


def test_decorator_keeps_name_docstring_and_signature() -> None:
    assert double.__name__ == "double"
    assert double.__doc__ == "Double it."
    assert str(inspect.signature(double)) == "(x: 'int', *, factor: 'int' = 2) -> 'int'"
    assert inspect.iscoroutinefunction(fetch)


def test_sync_success_and_error_are_recorded_and_re_raised() -> None:
    assert double(3) == 6
    assert double(4, factor=3) == 12
    with pytest.raises(ValueError, match="negative"):
        double(-1)
    stats = apm.get_metric_stats("execution_time", ["function:tests.double", "layer:unit"])
    assert stats is not None and stats["count"] == 3
    assert set(stats) == {"count", "min", "max", "mean", "median", "p95", "p99"}
    data = apm.get_dashboard_data()
    assert data["counters"]["function_calls:status:success:layer:unit"] == 2
    assert data["counters"]["function_calls:status:error:layer:unit"] == 1
    assert "execution_time:function:tests.double:layer:unit" in data["metrics"]
    assert data["uptime_seconds"] >= 0


def test_async_function_is_timed_and_errors_counted() -> None:
    assert asyncio.run(fetch(1)) == 2
    with pytest.raises(KeyError):
        asyncio.run(fetch(-1))
    name = f"function:{fetch.__module__}.fetch"
    stats = apm.get_metric_stats("execution_time", [name])
    assert stats is not None and stats["count"] == 2
    counters = apm.get_dashboard_data()["counters"]
    assert counters["function_calls:status:error"] == 1
    assert counters["function_calls:status:success"] >= 1


def test_methods_can_be_decorated() -> None:
    assert Service().run(5) == 5
    assert apm.get_metric_stats("execution_time", ["function:service.method"])["count"] == 1


def test_collector_record_metric_and_counters() -> None:
    collector = APMCollector()
    for value in (1.0, 2.0, 3.0, 4.0, 100.0):
        collector.record_metric("queue.depth", value, ["queue:emails"])
    collector.increment_counter("jobs", ["kind:email"])
    stats = collector.get_metric_stats("queue.depth", ["queue:emails"])
    assert stats["count"] == 5
    assert stats["min"] == 1.0 and stats["max"] == 100.0
    assert stats["mean"] == pytest.approx(22.0)
    assert abs(stats["median"] - 3.0) <= 0.03
    assert collector.get_metric_stats("never.recorded") is None
    assert collector.get_dashboard_data()["counters"]["jobs:kind:email"] == 1


def test_performance_monitor_get_metrics() -> None:
    perf_monitor.track_request(0.2)
    perf_monitor.track_request(0.4)
    got = perf_monitor.get_metrics()
    assert got["requests_processed"] == 2
    assert got["total_response_time"] == pytest.approx(0.6)
    assert got["avg_response_time"] == pytest.approx(0.3)
    assert got["memory_usage"] > 10
    assert got["cpu_usage"] >= 0
