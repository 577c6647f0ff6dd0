"""The Memory panel through the dashboard's JSON feed and page (staff only): one row
per worker process, from two processes recording into one sqlite store."""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.memory import metrics as memory_metrics
from perfsuite.memory.manager import memory_manager
from project.settings import MIDDLEWARE as DEMO_MIDDLEWARE
from tests.memory.conftest import perfsuite

pytestmark = pytest.mark.django_db

FEED = "/admin/performance/data.json?window=5m"
PAGE = "/admin/performance/"
HOSTILE = "<script>alert(1)</script>"


def demo_urls() -> override_settings:
    return override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE)


def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def panel(client: Client) -> dict[str, Any]:
    with demo_urls():
        data = client.get(FEED).json()
    return next(p for p in data["panels"] if p["id"] == "memory")["stats"]


def page(client: Client) -> str:
    with demo_urls():
        return client.get(PAGE).content.decode()


def _worker(ready: Any) -> None:
    """A worker: a cleanup (its reading and what it freed) and a recycle, flushed."""
    memory_manager.cleanup_memory()  # cooldown 0: runs, records the gauges
    recycles = metrics.counter("perfsuite_memory_recycles", "", ("reason",))
    recycles.labels("rss").inc()
    metrics.registry.flush()
    ready.put(True)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[list[int]]:
    """Two forked processes that recorded their memory into one sqlite store; their pids."""
    path = str(tmp_path / "metrics.sqlite3")
    keys = {"STORE": "sqlite", "SQLITE_PATH": path, "FLUSH_INTERVAL": 0.05}
    with override_settings(PERFSUITE={**perfsuite(CLEANUP_COOLDOWN=0), **keys}):
        metrics.registry.reset()
        ctx = multiprocessing.get_context("fork")
        ready = ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(ready,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            assert ready.get(timeout=60)
            worker.join(timeout=60)
            assert worker.exitcode == 0
        yield [worker.pid for worker in workers if worker.pid is not None]
        metrics.registry.reset()


def test_every_worker_has_its_row(two_workers: list[int]) -> None:
    client = staff()
    stats = panel(client)
    rows = stats["processes"]
    assert sorted(row["pid"] for row in rows) == sorted(two_workers)
    host = socket.gethostname()
    for row in rows:
        assert row["process"] == f"{host}:{row['pid']}" and row["host"] == host
        assert row["rss_bytes"] > 1024 * 1024 and row["allocated_blocks"] > 1000
        assert row["uss_bytes"] is None or 0 < row["uss_bytes"] <= row["rss_bytes"]
        assert row["last_cleanup_time"] is not None and row["last_cleanup_age_seconds"] >= 0
        assert row["last_cleanup_freed_bytes"] >= 0
        if row["container_limit_bytes"] is not None:  # in a container with a limit
            assert row["container_usage_bytes"] is not None
    totals = stats["totals"]
    assert totals["processes"] == 2
    assert totals["rss_bytes"] == sum(row["rss_bytes"] for row in rows)
    assert totals["cleanups"] == {"manual": 2} and totals["cleanups_skipped"] == {}
    assert totals["recycles"] == {"rss": 2} and totals["checks"] == 0
    assert stats["hosts"] == [
        {
            "host": host,
            "processes": 2,
            "rss_bytes": totals["rss_bytes"],
            "container_usage_bytes": max(
                (r["container_usage_bytes"] for r in rows if r["container_usage_bytes"]),
                default=None,
            ),
            "container_limit_bytes": min(
                (r["container_limit_bytes"] for r in rows if r["container_limit_bytes"]),
                default=None,
            ),
        }
    ]
    html = page(client)
    assert 'data-panel-id="memory"' in html
    for pid in two_workers:
        assert f'data-process="{host}:{pid}" data-pid="{pid}"' in html
    assert 'data-panel-stat="processes">2<' in html
    assert 'data-cleanups="manual">2<' in html and 'data-recycles="rss">2<' in html
    assert " s ago" in html and f'data-host="{host}"' in html


def test_staff_only(two_workers: list[int]) -> None:
    shopper = Client()
    shopper.force_login(User.objects.create_user("shopper", password="pw-123456"))
    with demo_urls():
        for url in (FEED, PAGE):
            anonymous = Client().get(url)
            assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
            assert shopper.get(url).status_code == 403


def test_no_process_yet() -> None:
    metrics.registry.reset()
    client = staff()
    stats = panel(client)
    assert stats["processes"] == [] and stats["hosts"] == []
    assert stats["totals"]["processes"] == 0 and stats["totals"]["recycles"] == {}
    assert "No process has reported its memory yet" in page(client)


def test_names_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics.registry.reset()
    monkeypatch.setattr(socket, "gethostname", lambda: HOSTILE)  # local store: this process
    memory_metrics.record_reading(memory_manager.read(), check=True)
    memory_metrics.record_skipped(HOSTILE)  # an unknown reason is folded into "busy"
    client = staff()
    stats = panel(client)
    assert [row["host"] for row in stats["processes"]] == [HOSTILE]
    assert stats["totals"]["checks"] == 1 and stats["totals"]["cleanups_skipped"] == {"busy": 1}
    html = page(client)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "never" in html  # no cleanup yet
    metrics.registry.reset()
