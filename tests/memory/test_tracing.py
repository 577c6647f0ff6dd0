"""The leak finder: the growth sites between two tracemalloc snapshots name the
allocating line; snapshots at the middleware's checks; off by default; fail open."""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from perfsuite.memory import tracing
from tests.memory import trace_urls
from tests.memory.conftest import MIDDLEWARE, counter, perfsuite

HERE = __file__
KEPT: list[Any] = []


@pytest.fixture(autouse=True)
def _untraced() -> Iterator[None]:
    """Each test starts and ends with tracemalloc off, as the test run has it."""
    assert not tracemalloc.is_tracing()
    yield
    KEPT.clear()
    trace_urls.LEAKED.clear()
    tracing.tracer.stop()
    tracemalloc.stop()


def leak(n: int = 1000, size: int = 1000) -> int:
    """Keeps ``n`` bytearrays alive; the line that allocates them."""
    line = sys._getframe().f_lineno + 1
    KEPT.extend(bytearray(size) for _ in range(n))
    return line


def test_a_growth_site_names_the_leaking_line() -> None:
    tracer = tracing.Tracer()
    assert tracer.snapshot() is None  # the baseline
    assert tracemalloc.is_tracing() and tracer.started_tracing
    line = leak()
    report = tracer.snapshot(frames=1, top=5)
    assert report is not None and tracer.report is report
    top = report.sites[0]
    assert (top.file, top.line, top.site) == (HERE, line, f"{HERE}:{line}")
    assert top.size_diff >= 1000 * 1000 and top.count_diff >= 1000
    assert top.size >= top.size_diff and top.traceback == (f"{HERE}:{line}",)
    assert len(report.sites) <= 5
    assert report.after.traced - report.before.traced >= 1000 * 1000
    assert report.after.allocated_blocks > report.before.allocated_blocks
    data = json.loads(json.dumps(report.as_dict()))
    assert data["sites"][0]["site"] == f"{HERE}:{line}" and data["frames"] == 1
    assert data["traced_diff"] >= 1000 * 1000 and data["seconds"] >= 0
    tracer.stop()
    assert not tracemalloc.is_tracing() and tracer.report is None


def caller() -> tuple[int, int]:
    line = sys._getframe().f_lineno + 1
    return line, leak()


def test_more_frames_name_the_callers_too() -> None:
    tracer = tracing.Tracer()
    tracer.snapshot(frames=3)
    called_at, line = caller()
    report = tracer.snapshot(frames=3, top=3)
    assert report is not None and report.frames == 3
    top = report.sites[0]
    assert top.site == f"{HERE}:{line}"
    # oldest call first; the generator of leak() is a frame of its own on the same line
    assert top.traceback[-1] == f"{HERE}:{line}" and len(top.traceback) == 3
    assert top.traceback[0] == f"{HERE}:{called_at}"


def test_the_sites_are_those_compare_to_ranks_first() -> None:
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    leak(300, 2000)
    leak(700, 100)
    after = tracemalloc.take_snapshot()
    ours = tracing.growth(tracing.grouped(before, 1), tracing.grouped(after, 1), top=20)
    theirs = [
        stat
        for stat in after.compare_to(before, "lineno")
        if stat.size_diff > 0 and stat.traceback[-1].filename not in tracing.EXCLUDED
    ]
    theirs.sort(key=lambda s: (-s.size_diff, -s.count_diff, str(s.traceback)))
    assert [(s.site, s.size_diff, s.count_diff) for s in ours] == [
        (str(s.traceback), s.size_diff, s.count_diff) for s in theirs[:20]
    ]


def test_importlib_tracemalloc_and_the_finder_itself_are_left_out(tmp_path: Path) -> None:
    module = tmp_path / "leaky_module_for_tracing.py"
    module.write_text("DATA = [bytearray(4096) for _ in range(100)]\n")
    tracer = tracing.Tracer()
    tracer.snapshot(top=1000)
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.import_module("leaky_module_for_tracing")  # between the snapshots
        report = tracer.snapshot(top=1000)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("leaky_module_for_tracing", None)
    assert report is not None
    files = {site.file for site in report.sites}
    assert files and not files & tracing.EXCLUDED
    assert tracing.__file__ not in files and tracemalloc.__file__ not in files
    assert report.sites[0].site == f"{module}:1"  # the module's own line, not importlib's


def test_off_by_default_it_never_starts_tracemalloc() -> None:
    assert tracing.maybe_snapshot() is None
    assert not tracemalloc.is_tracing()
    assert tracing.tracer.status() == {
        "enabled": False,
        "tracing": False,
        "overhead_bytes": 0,
        "report": None,
    }


def test_snapshots_at_the_interval_and_tracing_stops_when_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(tracing, "_monotonic", lambda: clock[0])
    with override_settings(PERFSUITE=perfsuite(TRACE=True, TRACE_INTERVAL=60, TRACE_TOP=3)):
        assert tracing.maybe_snapshot() is None  # starts tracing, takes the baseline
        assert tracemalloc.is_tracing()
        line = leak()
        clock[0] += 59
        assert tracing.maybe_snapshot() is None  # not yet
        clock[0] += 1
        report = tracing.maybe_snapshot()
        assert report is not None and report.sites[0].site == f"{HERE}:{line}"
        assert len(report.sites) <= 3
        assert tracing.tracer.status()["report"]["sites"][0]["line"] == line
    with override_settings(PERFSUITE=perfsuite(TRACE=False)):
        assert tracing.maybe_snapshot() is None
        assert not tracemalloc.is_tracing() and tracing.tracer.report is None


def test_tracemalloc_started_by_someone_else_is_left_running() -> None:
    tracemalloc.start(2)  # as PYTHONTRACEMALLOC=2 would
    tracer = tracing.Tracer()
    tracer.snapshot(frames=1)
    line = leak()
    report = tracer.snapshot(frames=1)
    assert report is not None and report.frames == 2  # its limit, not ours
    assert report.sites[0].site == f"{HERE}:{line}"
    tracer.stop()
    assert tracemalloc.is_tracing()


def test_through_the_middleware_at_its_checks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [0.0]

    def later() -> float:
        clock[0] += 100.0  # every check finds the trace interval passed
        return clock[0]

    monkeypatch.setattr(tracing, "_monotonic", later)
    keys = dict(CHECK_EVERY_REQUESTS=1, CHECK_INTERVAL=0, THRESHOLD_MB=10**6, TRACE=True)
    with override_settings(
        PERFSUITE=perfsuite(**keys), MIDDLEWARE=[MIDDLEWARE], ROOT_URLCONF="tests.memory.trace_urls"
    ):
        client = Client()
        caplog.set_level(logging.INFO, logger="perfsuite.memory")
        assert client.get("/leak/").content == b"leaked"  # its check takes the baseline
        assert tracing.tracer.report is None
        assert client.get("/leak/").content == b"leaked"  # its check: the growth since
        # read while the settings hold: leaving them starts a fresh store
        assert counter("perfsuite_memory_checks") == 2
    report = tracing.tracer.report
    assert report is not None
    assert report.sites[0].site == f"{trace_urls.__file__}:{trace_urls.LEAK_LINE}"
    assert f"trace_urls.py:{trace_urls.LEAK_LINE} +" in caplog.text


def test_a_failing_snapshot_is_logged_and_the_check_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Any:
        raise RuntimeError("no snapshot today")

    monkeypatch.setattr(tracemalloc, "take_snapshot", broken)
    keys = dict(CHECK_EVERY_REQUESTS=1, CHECK_INTERVAL=0, THRESHOLD_MB=10**6, TRACE=True)
    with override_settings(
        PERFSUITE=perfsuite(**keys), MIDDLEWARE=[MIDDLEWARE], ROOT_URLCONF="tests.memory.trace_urls"
    ):
        assert Client().get("/leak/").status_code == 200
        assert counter("perfsuite_memory_checks") == 1  # while the settings hold
    assert "memory trace snapshot failed" in caplog.text and "no snapshot today" in caplog.text


def _child(queue: Any) -> None:
    queue.put((tracing.tracer.report is None, tracemalloc.is_tracing()))


def test_a_forked_worker_drops_its_parents_report() -> None:
    tracing.tracer.snapshot()
    leak()
    assert tracing.tracer.snapshot() is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    assert queue.get(timeout=30) == (True, True)  # no report, still tracing
    child.join(timeout=30)
    assert child.exitcode == 0 and tracing.tracer.report is not None
