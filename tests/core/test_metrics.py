from __future__ import annotations

import asyncio
import threading
import tracemalloc

import pytest
from django.test import override_settings

from perfsuite.core.metrics import OTHER, OVERFLOW_METRIC, Registry
from perfsuite.core.sketch import Mapping
from perfsuite.core.stores import LocalStore


@pytest.fixture
def registry() -> Registry:
    return Registry(store=LocalStore(Mapping(0.01)), autoflush=False)


def test_counter_histogram_gauge_in_snapshot(registry: Registry) -> None:
    requests = registry.counter("requests", "", ("route",))
    latency = registry.histogram("latency", "", ("route",))
    inflight = registry.gauge("inflight")
    for value in (0.010, 0.020, 0.030):
        requests.labels("home").inc()
        latency.labels("home").observe(value)
    requests.labels("about").inc(2)
    inflight.set(3)
    snap = registry.snapshot("5m")
    assert snap.counter_total("requests") == 5
    assert snap.counter_total("requests", route="home") == 3
    stats = snap.histogram("latency", route="home").stats(snap.mapping)
    assert stats["count"] == 3
    assert stats["min"] == 0.010 and stats["max"] == 0.030
    assert stats["mean"] == pytest.approx(0.020)
    assert abs(stats["p50"] - 0.020) <= 0.0002
    assert snap.gauge_values("inflight") == [3.0]


def test_every_window_sees_fresh_data_and_reset_clears(registry: Registry) -> None:
    registry.counter("hits").inc(7)
    for window in ("5m", "1h", "24h", "all"):
        assert registry.snapshot(window).counter_total("hits") == 7, window
    registry.reset()
    assert registry.snapshot("all").counter_total("hits") == 0


def test_points_give_per_minute_series(registry: Registry) -> None:
    registry.histogram("lat").observe(0.5)
    snap = registry.snapshot("1h", points=True)
    assert len(snap.points) == 60
    assert snap.points[-1].histograms, "the current minute holds the observation"
    assert sum(h.count for p in snap.points for h in p.histograms.values()) == 1


def test_unknown_window_is_a_clear_error(registry: Registry) -> None:
    with pytest.raises(ValueError, match="unknown window"):
        registry.snapshot("7d")


def test_eight_threads_lose_no_increment(registry: Registry) -> None:
    counter = registry.counter("c", "", ("t",))
    hist = registry.histogram("h")
    per_thread = 20_000

    def work(n: int) -> None:
        child = counter.labels(str(n % 2))
        for i in range(per_thread):
            child.inc()
            hist.observe(0.001 + i * 1e-6)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    flusher_runs = 0

    def flush_while_recording() -> None:
        nonlocal flusher_runs
        while any(t.is_alive() for t in threads):
            registry.flush()
            flusher_runs += 1

    for t in threads:
        t.start()
    flusher = threading.Thread(target=flush_while_recording)
    flusher.start()
    for t in threads:
        t.join()
    flusher.join()
    snap = registry.snapshot("all")
    assert snap.counter_total("c") == 8 * per_thread
    assert snap.histogram("h").count == 8 * per_thread
    assert flusher_runs > 0


def test_label_cardinality_is_bounded(registry: Registry) -> None:
    hist = registry.histogram("by_path", "", ("path",))
    tracemalloc.start()
    for i in range(1_000):
        hist.labels(f"/warmup/{i}").observe(0.01)
    before, _ = tracemalloc.get_traced_memory()
    for i in range(10_000):
        hist.labels(f"/item/{i}").observe(0.01)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    snap = registry.snapshot("all")
    series = snap.series("by_path")
    assert len(series) <= registry.max_series + 1
    other = [s for s in series if s.labels == {"path": OTHER}]
    assert other and other[0].count == 11_000 - registry.max_series
    assert snap.counter_total(OVERFLOW_METRIC, metric="by_path") == 11_000 - registry.max_series
    # 10,000 new label values past the bound must not grow memory per value.
    assert after - before < 200_000


def test_bound_follows_the_setting() -> None:
    with override_settings(PERFSUITE={"MAX_SERIES_PER_METRIC": 3}):
        registry = Registry(store=LocalStore(Mapping(0.01)), autoflush=False)
        metric = registry.counter("few", "", ("k",))
        for i in range(10):
            metric.labels(i).inc()
        assert {s.labels["k"] for s in registry.snapshot().series("few")} == {"0", "1", "2", OTHER}


def test_wrong_number_of_labels_is_an_error(registry: Registry) -> None:
    metric = registry.counter("two", "", ("a", "b"))
    with pytest.raises(ValueError, match="takes labels"):
        metric.labels("only-one")


def test_redefining_a_metric_differently_is_an_error(registry: Registry) -> None:
    registry.counter("x", "", ("a",))
    assert registry.counter("x", "", ("a",)) is registry.counter("x", "", ("a",))
    with pytest.raises(ValueError, match="already defined"):
        registry.histogram("x", "", ("a",))


def test_recording_from_asyncio_tasks(registry: Registry) -> None:
    metric = registry.counter("async_calls")

    async def main() -> None:
        async def one() -> None:
            metric.inc()
            await asyncio.sleep(0)
            metric.inc()

        await asyncio.gather(*(one() for _ in range(100)))

    asyncio.run(main())
    assert registry.snapshot().counter_total("async_calls") == 200


def test_global_registry_follows_store_setting(redis_url: str) -> None:
    from perfsuite.core.metrics import registry
    from perfsuite.core.stores.redis import RedisStore

    with override_settings(PERFSUITE={"STORE": "redis", "REDIS_URL": redis_url}):
        assert isinstance(registry.store, RedisStore)
    assert isinstance(registry.store, LocalStore)


def test_a_gauge_alone_starts_the_flusher_as_a_counter_does() -> None:
    """A process that only sets gauges (a sampler) still sends them to the store."""
    registry = Registry(store=LocalStore(Mapping(0.01)), autoflush=True)
    try:
        assert not registry._flusher.started
        registry.gauge("only_gauge", "", ("q",)).labels("a").set(3)
        assert registry._flusher.started
    finally:
        registry.close()
