"""``manage.py memory_report``: this process's figures, the leak finder's growth sites
(``--trace-seconds``), the workers' rows of the store; in-process and as the demo's
own command in a subprocess."""

from __future__ import annotations

import io
import json
import os
import socket
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from perfsuite.memory import metrics as memory_metrics
from perfsuite.memory import tracing
from perfsuite.memory.manager import memory_manager
from tests.helpers import demo_env, manage
from tests.memory.conftest import perfsuite

HERE = __file__
KEPT: list[Any] = []
USAGE_KEYS = set(memory_manager.get_memory_usage())


@pytest.fixture(autouse=True)
def _untraced() -> Iterator[None]:
    assert not tracemalloc.is_tracing()
    yield
    KEPT.clear()
    tracing.tracer.stop()
    tracemalloc.stop()


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("memory_report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def leak(seconds: float = 0) -> None:
    """Stands in for the command's wait: allocates in a known line meanwhile."""
    KEPT.extend(bytearray(1000) for _ in range(1000))


LEAK_LINE = leak.__code__.co_firstlineno + 2


def test_this_process_and_the_workers_as_json() -> None:
    memory_metrics.record_reading(memory_manager.read(), check=True)  # a check in this process
    data = json.loads(report("--json"))
    process = data["process"]
    assert process["pid"] == os.getpid()
    assert process["process"] == f"{socket.gethostname()}:{os.getpid()}"
    assert set(process) >= USAGE_KEYS and process["rss_mb"] > 1
    assert data["tracing"] == {
        "enabled": False,
        "tracing": False,
        "overhead_bytes": 0,
        "report": None,
        "source": "checks",
    }
    store = data["store"]
    assert store["store"] == "local" and store["window"] == "5m"
    assert [row["pid"] for row in store["processes"]] == [os.getpid()]
    assert store["totals"]["checks"] == 1 and store["totals"]["recycles"] == {}
    assert json.loads(report("--json", "--no-store"))["store"] is None


def test_the_text_report() -> None:
    with override_settings(PERFSUITE=perfsuite(CLEANUP_COOLDOWN=0)):
        memory_manager.cleanup_memory(reason="manual")
        text = report("--window", "1h")
    assert f"this process ({socket.gethostname()}:{os.getpid()}): RSS " in text
    assert "allocated blocks" in text and "tracked objects" in text
    assert "leak finder: MEMORY_TRACE is off" in text
    assert "workers (local store, window 1h): 1 processes" in text
    assert "cleanups manual 1" in text and "recycles none" in text
    assert f"{socket.gethostname()}:{os.getpid()}" in text.split("-----")[-1]


def test_trace_seconds_names_what_grew_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    def wait(seconds: float) -> None:
        waited.append(seconds)
        leak()

    monkeypatch.setattr(tracing, "_sleep", wait)
    data = json.loads(report("--json", "--trace-seconds", "2.5", "--top", "3", "--no-store"))
    assert waited == [2.5]
    tracing_data = data["tracing"]
    assert tracing_data["source"] == "measured"
    sites = tracing_data["report"]["sites"]
    assert sites[0]["site"] == f"{HERE}:{LEAK_LINE}" and len(sites) <= 3
    assert sites[0]["size_diff"] >= 1000 * 1000
    assert not tracemalloc.is_tracing()  # only for the period: nothing else ran it
    text = report("--trace-seconds", "1", "--frames", "2", "--no-store")
    assert "growth over" in text and "(2 frame(s))" in text
    assert f"test_memory_report.py:{LEAK_LINE}" in text
    assert "from " in text  # the caller's frame, under the site


def test_the_process_report_from_the_checks() -> None:
    with override_settings(PERFSUITE=perfsuite(TRACE=True)):
        tracing.tracer.snapshot()
        leak()
        tracing.tracer.snapshot()
        data = json.loads(report("--json", "--no-store"))
        text = report("--no-store")
    assert data["tracing"]["enabled"] and data["tracing"]["tracing"]
    assert data["tracing"]["source"] == "checks" and data["tracing"]["overhead_bytes"] > 0
    assert data["tracing"]["report"]["sites"][0]["site"] == f"{HERE}:{LEAK_LINE}"
    assert f"test_memory_report.py:{LEAK_LINE}" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--window", "2d"), "--window"),
        (("--trace-seconds", "-1"), "--trace-seconds"),
        (("--top", "0"), "--top"),
        (("--frames", "-1"), "--frames"),
    ],
)
def test_mistakes_are_command_errors(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("memory_report", *args, stdout=io.StringIO())


def test_an_unreadable_store_still_reports_this_process(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the store wants a folder
    keys = {"STORE": "sqlite", "SQLITE_PATH": str(blocked / "metrics.sqlite3")}
    with override_settings(PERFSUITE={**perfsuite(), **keys}):
        data = json.loads(report("--json"))
        err = io.StringIO()
        call_command("memory_report", stdout=io.StringIO(), stderr=err)
    assert data["process"]["pid"] == os.getpid()
    assert data["store"]["error"].startswith("cannot read the metrics store")
    assert "cannot read the metrics store" in err.getvalue()


@pytest.mark.slow
def test_the_demos_command_in_a_subprocess(tmp_path: Path) -> None:
    env = demo_env(PERFSUITE_VAR_DIR=str(tmp_path))
    result = manage("memory_report", "--json", "--trace-seconds", "0.2", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["process"]["pid"] != os.getpid() and set(data["process"]) >= USAGE_KEYS
    assert data["tracing"]["source"] == "measured"
    assert data["tracing"]["report"]["seconds"] >= 0.2
    assert data["store"]["store"] == "sqlite" and data["store"]["processes"] == []
    result = manage("memory_report", env=env)
    assert result.returncode == 0, result.stderr
    assert "this process (" in result.stdout and "workers (sqlite store" in result.stdout
