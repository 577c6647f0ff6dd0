"""The redis store against a real redis-server on 127.0.0.1."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap
import time

import pytest
from django.test import override_settings

from perfsuite.core.metrics import DROPPED_METRIC, Registry
from perfsuite.core.sketch import Mapping
from perfsuite.core.stores.redis import RedisStore
from tests.helpers import ROOT
from tests.services import RedisServer

pytestmark = pytest.mark.redis


def make_registry(url: str, **options: object) -> Registry:
    store = RedisStore(Mapping(0.01), url, prefix="t", socket_timeout=0.3, **options)  # type: ignore[arg-type]
    return Registry(store=store, autoflush=False)


def flush_until_sent(registry: Registry, seconds: float = 10.0) -> bool:
    """Flush until the breaker lets a probe through to the store that came back."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if registry.flush():
            return True
        time.sleep(0.05)
    return False


def test_snapshot_over_every_window(redis_url: str) -> None:
    registry = make_registry(redis_url)
    latency = registry.histogram("latency", "", ("route",))
    for i in range(1, 101):
        latency.labels("home").observe(i / 1000)
    registry.counter("hits", "", ("route",)).labels("home").inc(5)
    registry.gauge("inflight").set(2)
    assert registry.flush()
    for window in ("5m", "1h", "24h", "all"):
        snap = registry.snapshot(window)
        stats = snap.histogram("latency", route="home").stats(snap.mapping)
        assert stats["count"] == 100, window
        assert stats["min"] == 0.001 and stats["max"] == 0.1
        # the guide's rank: the value at index int(q * n) of the sorted samples
        assert abs(stats["p50"] - 0.051) / 0.051 <= 0.01
        assert abs(stats["p99"] - 0.100) / 0.100 <= 0.01
        assert snap.counter_total("hits") == 5
        assert snap.gauge_values("inflight") == [2.0]
    snap = registry.snapshot("1h", points=True)
    assert len(snap.points) == 60
    assert sum(h.count for p in snap.points for h in p.histograms.values()) == 100
    assert snap.meta["store"] == "redis" and snap.meta["processes"] == 1


def test_reset_clears_the_shared_view(redis_url: str) -> None:
    registry = make_registry(redis_url)
    registry.counter("hits").inc(3)
    registry.flush()
    registry.reset()
    assert registry.snapshot("all").counter_total("hits") == 0
    registry.counter("hits").inc()
    assert registry.snapshot("all").counter_total("hits") == 1


def test_a_retried_batch_is_applied_once(redis_url: str) -> None:
    registry = make_registry(redis_url)
    registry.counter("hits").inc(4)
    batch = registry._drain()
    registry.store.write(batch)
    registry.store.write(batch)  # a retry after a lost reply
    assert registry.snapshot("all").counter_total("hits") == 4


def _child(url: str, n: int, barrier: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    from perfsuite.core import metrics

    counter = metrics.counter("xproc_requests", "", ("route",))
    latency = metrics.histogram("xproc_latency", "", ("route",))
    barrier.wait()
    for i in range(n):
        counter.labels("shop").inc()
        latency.labels("shop").observe(0.001 + (i % 100) / 1000)
    # no explicit flush: a clean exit must land every delta


def test_four_processes_add_up_exactly(redis_url: str) -> None:
    from perfsuite.core.metrics import registry

    settings = {"STORE": "redis", "REDIS_URL": redis_url, "FLUSH_INTERVAL": 0.2}
    with override_settings(PERFSUITE=settings):
        registry.reset()
        ctx = multiprocessing.get_context("fork")
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_child, args=(redis_url, 10_000, barrier)) for _ in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=120)
            assert proc.exitcode == 0
        snap = registry.snapshot("all")
        assert snap.counter_total("xproc_requests", route="shop") == 40_000
        hist = snap.histogram("xproc_latency", route="shop")
        assert hist.count == 40_000
        assert hist.min == 0.001 and hist.max == pytest.approx(0.1)
        assert snap.histogram("xproc_latency").count == 40_000
        registry.reset()


EXIT_SCRIPT = """
import django
from django.conf import settings
settings.configure(PERFSUITE={{"STORE": "redis", "REDIS_URL": {url!r}, "FLUSH_INTERVAL": 3600}})
django.setup()
from perfsuite.core import metrics
c = metrics.counter("exit_counter")
h = metrics.histogram("exit_latency")
for i in range(1234):
    c.inc()
    h.observe(0.25)
print("recorded")
"""


def test_clean_exit_before_the_flush_interval_lands_every_delta(redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXIT_SCRIPT.format(url=redis_url))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    store = RedisStore(Mapping(0.01), redis_url)
    snap = store.snapshot("all")
    assert snap.counter_total("exit_counter") == 1234
    assert snap.histogram("exit_latency").count == 1234


def test_outage_buffers_and_lands_exact_totals(own_redis: RedisServer, caplog) -> None:
    registry = make_registry(own_redis.url)
    counter = registry.counter("outage_hits", "", ("route",))
    latency = registry.histogram("outage_latency")
    for _ in range(1000):
        counter.labels("a").inc()
        latency.observe(0.01)
    assert registry.flush()

    own_redis.stop()
    for round_ in range(5):
        for _ in range(1000):
            counter.labels("a").inc()  # never raises while Redis is down
            latency.observe(0.02)
        assert registry.flush() is False, round_
    with pytest.raises(Exception):  # noqa: B017 - the reader sees the outage
        registry.store.snapshot("all")
    assert any("unreachable" in r.getMessage() for r in caplog.records)

    own_redis.start()
    assert flush_until_sent(registry)
    snap = registry.snapshot("all")
    assert snap.counter_total("outage_hits") == 6000
    hist = snap.histogram("outage_latency")
    assert hist.count == 6000
    assert hist.max == 0.02
    assert registry.dropped == 0


def test_outage_beyond_the_buffer_bound_counts_what_it_drops(
    own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from perfsuite.core import registry as registry_module

    with override_settings(PERFSUITE={"MAX_BUFFERED_SERIES": 5}):
        registry = make_registry(own_redis.url)
        metric = registry.counter("wide", "", ("k",))
        own_redis.stop()
        start = time.time()
        for i in range(20):
            # a 20-minute outage: one series-minute buffered per minute
            monkeypatch.setattr(registry_module, "_time", lambda i=i: start + 60 * i)
            metric.labels(i).inc()
            assert registry.flush() is False  # the flusher's attempt in that minute
        assert registry.pending_size() <= 5
        assert registry.dropped == 15
        own_redis.start()
        assert flush_until_sent(registry)
        snap = registry.snapshot("all")
        assert snap.counter_total("wide") == 5
        assert snap.counter_total(DROPPED_METRIC) == 15


def test_concurrent_snapshots_each_read_their_own_series(redis_url: str) -> None:
    """Feed requests read at once: each snapshot parses with the series it read."""
    import threading

    registry = make_registry(redis_url)
    for n in range(40):
        registry.counter(f"concurrent_{n}", "", ("route",)).labels("a").inc(n + 1)
    registry.histogram("concurrent_latency").observe(0.01)
    assert registry.flush()
    store = registry.store
    expected = sum(range(1, 41))
    failures: list[str] = []

    def read(window: str) -> None:
        for _ in range(25):
            snap = store.snapshot(window, points=window == "1h")
            total = sum(snap.counter_total(f"concurrent_{n}") for n in range(40))
            if total != expected or snap.histogram("concurrent_latency").count != 1:
                failures.append(f"{window}: {total}")

    threads = [threading.Thread(target=read, args=(w,)) for w in ("5m", "1h", "all") * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
