"""The sqlite store: one file that every process of a machine adds into."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from perfsuite.core.metrics import Registry
from perfsuite.core.sketch import Mapping
from perfsuite.core.stores.sqlite import SQLiteStore


def make_registry(path: Path) -> Registry:
    return Registry(store=SQLiteStore(Mapping(0.01), path), autoflush=False)


def test_snapshot_over_every_window(tmp_path: Path) -> None:
    registry = make_registry(tmp_path / "m.sqlite3")
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
        assert abs(stats["p50"] - 0.051) / 0.051 <= 0.01
        assert abs(stats["p99"] - 0.100) / 0.100 <= 0.01
        assert snap.counter_total("hits") == 5
        assert snap.gauge_values("inflight") == [2.0]
    snap = registry.snapshot("1h", points=True)
    assert len(snap.points) == 60
    assert sum(h.count for p in snap.points for h in p.histograms.values()) == 100
    assert len(registry.snapshot("24h", points=True).points) == 24
    assert snap.meta["store"] == "sqlite" and snap.meta["processes"] == 1


def test_a_second_reader_sees_the_first_writer(tmp_path: Path) -> None:
    writer = make_registry(tmp_path / "m.sqlite3")
    reader = make_registry(tmp_path / "m.sqlite3")
    writer.counter("hits").inc(3)
    writer.histogram("latency").observe(0.5)
    writer.flush()
    writer.histogram("latency").observe(0.25)
    writer.flush()
    snap = reader.snapshot("all")
    assert snap.counter_total("hits") == 3
    hist = snap.histogram("latency")
    assert (hist.count, hist.min, hist.max, hist.sum) == (2, 0.25, 0.5, 0.75)


def test_reset_and_a_retried_batch(tmp_path: Path) -> None:
    registry = make_registry(tmp_path / "m.sqlite3")
    registry.counter("hits").inc(4)
    batch = registry._drain()
    registry.store.write(batch)
    registry.store.write(batch)  # a retry after a lost reply
    assert registry.snapshot("all").counter_total("hits") == 4
    registry.reset()
    assert registry.snapshot("all").counter_total("hits") == 0
    assert registry.snapshot("all").meta["reset_at"] is not None


def _child(path: str, n: int, barrier: multiprocessing.synchronize.Barrier) -> None:  # type: ignore[name-defined]
    from perfsuite.core import metrics

    counter = metrics.counter("sqlite_requests", "", ("route",))
    latency = metrics.histogram("sqlite_latency", "", ("route",))
    metrics.gauge("sqlite_workers").set(1)
    barrier.wait()
    for i in range(n):
        counter.labels("shop").inc()
        latency.labels("shop").observe(0.001 + (i % 100) / 1000)
    # no explicit flush: a clean exit lands every delta


def test_four_processes_add_up_exactly(tmp_path: Path) -> None:
    from perfsuite.core.metrics import registry

    path = str(tmp_path / "shared.sqlite3")
    settings = {"STORE": "sqlite", "SQLITE_PATH": path, "FLUSH_INTERVAL": 0.05}
    with override_settings(PERFSUITE=settings):
        registry.reset()
        ctx = multiprocessing.get_context("fork")
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_child, args=(path, 5_000, barrier)) for _ in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=120)
            assert proc.exitcode == 0
        snap = registry.snapshot("all")
        assert snap.counter_total("sqlite_requests", route="shop") == 20_000
        hist = snap.histogram("sqlite_latency", route="shop")
        assert hist.count == 20_000
        assert hist.min == 0.001 and hist.max == pytest.approx(0.1)
        # one gauge per live process, summed by the dashboard
        assert sorted(snap.gauge_values("sqlite_workers")) == [1.0] * 4
        assert snap.meta["processes"] == 4
        registry.reset()


def test_the_suite_registry_reads_what_another_registry_wrote(tmp_path: Path) -> None:
    from perfsuite.core.metrics import registry

    path = tmp_path / "feed.sqlite3"
    settings = {"STORE": "sqlite", "SQLITE_PATH": path}
    with override_settings(PERFSUITE=settings):
        registry.reset()
        other = make_registry(path)  # another process's registry, on the same file
        other.counter("perfsuite_tasks_published", "", ("task",)).labels("x").inc(7)
        other.flush()
        call_command("check")  # the settings check accepts a pathlib.Path
        assert registry.snapshot("all").counter_total("perfsuite_tasks_published") == 7
