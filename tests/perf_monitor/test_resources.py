"""Process figures that are true: CPU over a real interval, throughput over the time
the window's data covers, memory and CPU cards that say what they sum."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from perfsuite.core.sketch import Mapping
from perfsuite.core.stores.base import Snapshot
from perfsuite.perf_monitor import dashboard
from perfsuite.perf_monitor import metrics as recorder
from tests.perf_monitor.conftest import snapshot


@pytest.fixture
def fresh_sampler(monkeypatch: pytest.MonkeyPatch) -> recorder._Sampler:
    sampler = recorder._Sampler()
    monkeypatch.setattr(recorder, "sampler", sampler)
    return sampler


def test_the_first_sample_of_a_process_reports_no_cpu(fresh_sampler: Any) -> None:
    first = fresh_sampler.sample()
    assert first["cpu"] is None, "a CPU figure over a few microseconds (3180 % seen)"
    assert snapshot().gauge_values("perfsuite_process_cpu_percent") == []
    assert first["rss"] > 10 * 1024 * 1024


def test_cpu_is_measured_over_an_interval_and_never_above_the_cores(
    fresh_sampler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_sampler.sample()
    monkeypatch.setattr(recorder, "MIN_CPU_INTERVAL", 0.05)
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        pass  # one core busy
    second = fresh_sampler.sample()
    cores = os.cpu_count() or 1
    assert second["cpu"] is not None and 20 <= second["cpu"] <= 100 * cores
    assert snapshot().gauge_values("perfsuite_process_cpu_percent") == [second["cpu"]]


def test_the_guides_get_metrics_gives_a_cpu_figure_on_the_first_call(
    fresh_sampler: Any,
) -> None:
    from perfsuite.perf_monitor.apm import PerformanceMonitor

    got = PerformanceMonitor().get_metrics()
    assert 0 <= got["cpu_usage"] <= 100 * (os.cpu_count() or 1)


@pytest.mark.parametrize(
    ("window", "offset", "reset_ago", "covered"),
    [
        ("5m", 30, None, 4 * 60 + 30),  # four whole minutes and half of this one
        ("5m", 59, None, 4 * 60 + 59),
        ("5m", 30, 100, 100),  # a reset 100 s ago: the data covers 100 s
        ("1h", 0, None, 59 * 60),
        ("24h", 1800, None, 23 * 3600 + 1800),
        ("all", 0, 250, 250),
    ],
)
def test_throughput_divides_by_the_time_the_data_covers(
    window: str, offset: int, reset_ago: int | None, covered: float
) -> None:
    now = 1_800_000_000 - 1_800_000_000 % 86400 + offset  # a whole day, plus offset
    snap = Snapshot(window=window, mapping=Mapping(0.01), generated_at=now)
    if reset_ago is not None:
        snap.meta["reset_at"] = now - reset_ago
    assert dashboard.covered_seconds(snap, window) == covered


def test_cards_say_what_they_sum(client: Any, django_user_model: Any) -> None:
    from perfsuite.perf_monitor.render import context

    data = {
        "memory_usage": 176.0,
        "memory_largest_process": 60.2,
        "cpu_usage": 12.5,
        "cpu_cores": 2,
        "resource_processes": 4,
        "latency": {},
    }
    cards = {card["key"]: card for card in context(data)["cards"]}
    assert cards["memory_usage"]["label"] == "Memory, RSS summed over 4 processes"
    assert cards["memory_usage"]["note"] == "largest process 60.2 MB"
    assert cards["cpu_usage"]["label"] == "CPU summed over 4 processes"
    assert "2 cores" in cards["cpu_usage"]["note"]
