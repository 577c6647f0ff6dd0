"""Task metrics from Celery's signals, in this process: a real worker thread on kombu's
in-memory broker; the Tasks panel in the dashboard's feed and page; ``taskstats``;
the queue depth read from the broker."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.tasks import messages, signals
from perfsuite.tasks.queues import queue_depths, sample
from project.settings import MIDDLEWARE as DEMO_MIDDLEWARE

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> Iterator[Celery]:
    metrics.registry.reset()
    app = Celery("metrics_in_process", broker="memory://", backend="cache+memory://")
    app.conf.task_default_queue = "metrics-test"

    @app.task(name="metric.ok", shared=False)
    def ok(x: int) -> int:
        return x

    @app.task(name="metric.boom", shared=False)
    def boom() -> None:
        raise ValueError("boom")

    @app.task(name="metric.flaky", bind=True, max_retries=1, shared=False)
    def flaky(self: Any) -> str:
        if not self.request.retries:
            raise self.retry(countdown=0)
        return "done"

    with override_settings(PERFSUITE={"STORE": "local"}):
        yield app


def run(app: Celery) -> None:
    ok, boom, flaky = (app.tasks[n] for n in ("metric.ok", "metric.boom", "metric.flaky"))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        results = [ok.delay(i) for i in range(3)] + [boom.delay(), flaky.delay()]
        assert [r.get(timeout=20) for r in results[:3]] == [0, 1, 2]
        with pytest.raises(ValueError):
            results[3].get(timeout=20)
        assert results[4].get(timeout=20) == "done"


def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops", "ops@example.com", "pw"))
    return client


def test_signals_count_every_outcome(app: Celery) -> None:
    run(app)
    snap = metrics.registry.snapshot("5m")
    total = snap.counter_total
    assert total("perfsuite_tasks_published", task="metric.ok") == 3
    assert total("perfsuite_tasks_started", task="metric.ok") == 3
    assert total("perfsuite_tasks_succeeded", task="metric.ok") == 3
    assert total("perfsuite_tasks_failed", task="metric.boom") == 1
    assert total("perfsuite_tasks_succeeded", task="metric.boom") == 0
    # a retry is a new message: published and started twice, retried once, one success
    assert total("perfsuite_tasks_published", task="metric.flaky") == 2
    assert total("perfsuite_tasks_started", task="metric.flaky") == 2
    assert total("perfsuite_tasks_retried", task="metric.flaky") == 1
    assert total("perfsuite_tasks_succeeded", task="metric.flaky") == 1
    wait = snap.histogram("perfsuite_tasks_queue_wait_seconds", task="metric.ok")
    runtime = snap.histogram("perfsuite_tasks_runtime_seconds", task="metric.ok")
    assert wait.count == 3 and 0 <= wait.min <= wait.max < 20
    assert runtime.count == 3 and 0 <= runtime.max < 20


def test_eager_runs_count_starts_without_a_queue_wait(app: Celery) -> None:
    app.conf.task_always_eager = True
    assert app.tasks["metric.ok"].delay(7).get() == 7
    snap = metrics.registry.snapshot("5m")
    assert snap.counter_total("perfsuite_tasks_started", task="metric.ok") == 1
    assert snap.counter_total("perfsuite_tasks_published", task="metric.ok") == 0
    assert snap.histogram("perfsuite_tasks_queue_wait_seconds", task="metric.ok").count == 0


def test_the_publish_time_header_gives_the_queue_wait_from_the_eta() -> None:
    assert messages.epoch(12.5) == 12.5
    assert messages.epoch("2026-01-01T00:00:00+00:00") == 1767225600.0
    assert messages.epoch("not a time") is None and messages.epoch(None) is None
    headers: dict[str, Any] = {}
    signals.on_before_publish(sender="t", headers=headers)
    assert isinstance(headers[signals.PUBLISHED_HEADER], float)


def test_the_panel_in_the_feed_and_page_and_taskstats(app: Celery) -> None:
    run(app)
    sample(app)  # what a worker's main process does every TASK_QUEUE_SAMPLE_INTERVAL
    client = staff()
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE):
        data = client.get("/admin/performance/data.json?window=5m").json()
        page = client.get("/admin/performance/").content.decode()
    stats = next(p for p in data["panels"] if p["id"] == "tasks")["stats"]
    row = next(r for r in stats["tasks"] if r["task"] == "metric.ok")
    assert (row["published"], row["started"], row["succeeded"], row["failed"]) == (3, 3, 3, 0)
    assert row["runtime_p50_ms"] is not None and row["queue_wait_p95_ms"] is not None
    assert stats["totals"]["failed"] == 1 and stats["totals"]["retried"] == 1
    assert stats["queue_depth"] == {"metrics-test": 0}
    assert 'data-task="metric.ok"' in page and 'data-panel-stat="failed">1<' in page
    out = io.StringIO()
    call_command("taskstats", "--json", "--no-broker", stdout=out)
    feed = json.loads(out.getvalue())
    assert feed["totals"] == stats["totals"] and feed["queue_depth_now"] == {}
    out = io.StringIO()
    call_command("taskstats", "--window", "1h", "--no-broker", stdout=out)
    text = out.getvalue()
    assert "6 published" in text and "metric.ok" in text and "1 failed" in text
    with pytest.raises(CommandError, match="--window"):
        call_command("taskstats", "--window", "2d")


def test_queue_depth_from_the_broker_and_an_unreachable_one(app: Celery) -> None:
    for i in range(4):
        app.tasks["metric.ok"].delay(i)  # no worker: they wait
    assert queue_depths(app) == {"metrics-test": 4}
    down = Celery("down", broker="redis://127.0.0.1:9/0")
    assert queue_depths(down, ["celery"], timeout=0.2) == {"celery": None}
    assert sample(down, ["celery"]) == {"celery": None}  # recorded nothing, raised nothing
