"""Task metrics are exact over 500 tasks on two worker groups (two ``celery worker``
processes, prefork with two children each, standing for two machines) on one Redis
broker with the Redis metrics store, and on the demo's embedded broker with the sqlite
store: published, started and succeeded read 500 through
``manage.py taskstats --json`` and through the dashboard feed."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from project.settings import MIDDLEWARE as DEMO_MIDDLEWARE
from tests.helpers import celery_worker, demo_env, manage, run_python

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

TASKS = 500
TASK = "perfsuite_tests.noop"
PUBLISH = f"""
import collections, django
django.setup()
from celery.result import ResultSet
from celery import current_app
from tests.tasks.metric_tasks import noop
# both groups answer before the first task: else one may drain all 500 alone
deadline = time.monotonic() + 90
while len(current_app.control.ping(timeout=1.0)) < 2 and time.monotonic() < deadline:
    pass
results = ResultSet([noop.delay(i) for i in range({TASKS})])
print(json.dumps(collections.Counter(results.join(timeout=120, propagate=True))))
""".replace("import collections", "import collections, json, time")


def worker_group(env: dict[str, str], name: str) -> Any:
    """One worker group ("machine"): its own node name, the test's task module."""
    return celery_worker(env, "-I", "tests.tasks.metric_tasks", "-n", f"{name}@%h")


def stop(proc: subprocess.Popen[str]) -> str:
    """A warm shutdown (SIGTERM): the children finish, flush and exit; then the parent."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0] + "\n(killed: no warm shutdown within 60 s)"


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_totals_exact_over_500_tasks_on_two_worker_groups(
    tmp_path: Path, broker: str, request: pytest.FixtureRequest
) -> None:
    """On Redis (broker and metrics store) and on the demo's embedded defaults (the
    file-system broker, the sqlite metrics store under var/)."""
    extra = {"REDIS_URL": request.getfixturevalue("redis_url")} if broker == "redis" else {}
    env = demo_env(
        PERFSUITE_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="tests.tasks.metric_settings",
        **extra,
    )
    with ExitStack() as stack:
        groups = [stack.enter_context(worker_group(env, name)) for name in ("g1", "g2")]
        published = run_python(PUBLISH, env, timeout=180)
        outputs = [stop(group) for group in groups]
        assert published.returncode == 0, (published.stderr, outputs)
        for group, output in zip(groups, outputs, strict=True):
            assert group.returncode == 0, output
    by_group = json.loads(published.stdout.strip().splitlines()[-1])
    assert sum(by_group.values()) == TASKS and set(by_group) == {"g1", "g2"}, by_group

    result = manage("taskstats", "--json", "--window", "1h", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    row = next(r for r in data["tasks"] if r["task"] == TASK)
    expected = {"published": TASKS, "started": TASKS, "succeeded": TASKS, "failed": 0}
    assert {k: row[k] for k in expected} == expected, row
    assert row["retried"] == 0 and data["store"] == ("redis" if extra else "sqlite")
    assert row["runtime_p95_ms"] is not None and row["queue_wait_p95_ms"] is not None
    assert data["queue_depth_now"] == {"celery": 0}

    client = Client()
    client.force_login(User.objects.create_superuser("ops", "ops@example.com", "pw"))
    conf = (
        {"STORE": "redis", "REDIS_URL": extra["REDIS_URL"]}
        if extra
        else {"STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "metrics.sqlite3")}
    )
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE, PERFSUITE=conf):
        feed = client.get("/admin/performance/data.json?window=1h").json()
    stats = next(p for p in feed["panels"] if p["id"] == "tasks")["stats"]
    feed_row = next(r for r in stats["tasks"] if r["task"] == TASK)
    assert {k: feed_row[k] for k in expected} == expected, feed_row


def test_a_worker_samples_the_queue_depth(tmp_path: Path, redis_url: str) -> None:
    env = demo_env(
        PERFSUITE_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="tests.tasks.metric_settings",
        METRIC_FLUSH_INTERVAL="0.2",
    )
    send = (
        "import django\ndjango.setup()\n"
        "from tests.tasks.metric_tasks import sleepy\n"
        "for _ in range(40):\n    sleepy.delay(0.15)\n"
    )
    seen: list[dict[str, int]] = []
    with worker_group(env, "g1") as group:
        assert run_python(send, env, timeout=60).returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            result = manage("taskstats", "--json", "--no-broker", env=env)
            assert result.returncode == 0, result.stderr
            depth = json.loads(result.stdout)["queue_depth"]
            seen.append(depth)
            if depth.get("celery", 0) > 0:
                break
        stop(group)
    assert any(d.get("celery", 0) > 0 for d in seen), seen  # sampled while tasks waited
