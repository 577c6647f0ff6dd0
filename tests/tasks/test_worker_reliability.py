"""The reliable defaults with real prefork workers, on the embedded broker and on Redis:
enqueue on commit and nothing on rollback, a transient error retried with growing
delays, a permanent one not retried, one run per idempotency key, and a worker process
SIGKILLed mid-task whose task is delivered again and does its effect exactly once."""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path

import pytest

from tests.helpers import demo_env, run_python
from tests.tasks.workers import WORKER_SETTINGS, migrated, produce, wait_for, worker

pytestmark = pytest.mark.slow

SETUP = """
import json
from celery import current_app
from django.db import transaction
from perfsuite.tasks.processor import task_processor
from tests.tasks import worker_tasks

FOLDER = {folder!r}
task_processor.register("effect", worker_tasks.effect)


def queued():
    with current_app.connection_for_write() as conn:
        declared = conn.default_channel.queue_declare("celery", durable=True, auto_delete=False)
        return declared.message_count
"""

ON_COMMIT = """
with transaction.atomic():
    kept = task_processor.queue_task("effect", {"folder": FOLDER, "label": "committed"})
    inside = queued()
try:
    with transaction.atomic():
        task_processor.queue_task("effect", {"folder": FOLDER, "label": "rolled back"})
        raise RuntimeError("roll back")
except RuntimeError:
    pass
print(json.dumps({"kept": kept, "inside": inside, "after": queued()}))
"""

RUN = """
from celery.result import AsyncResult

def outcome(task_id, timeout=90):
    found = AsyncResult(task_id)
    try:
        return found.get(timeout=timeout)
    except Exception as exc:
        return {"state": found.state, "error": repr(exc)}

ONCE = {"folder": FOLDER, "label": "once"}
first = task_processor.queue_task("effect", ONCE, idempotency_key="order-42")
second = task_processor.queue_task("effect", ONCE, idempotency_key="order-42")
flaky = worker_tasks.flaky.delay(FOLDER, 3).id
broken = worker_tasks.broken.delay(FOLDER).id
print(json.dumps({
    "kept": outcome({kept!r}),
    "keyed": [outcome(first), outcome(second)],
    "flaky": outcome(flaky),
    "broken": outcome(broken),
}))
"""


@pytest.fixture(params=["embedded", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    extra = {"PERFSUITE_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS}
    if request.param == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    return migrated(demo_env(**extra))


def lines(folder: Path, name: str) -> list[str]:
    path = folder / name
    return path.read_text().splitlines() if path.exists() else []


def test_commit_rollback_retries_and_idempotency_keys(env: dict[str, str], tmp_path: Path) -> None:
    setup = SETUP.format(folder=str(tmp_path))
    sent = produce(setup + ON_COMMIT, env)  # no worker yet: count what the broker holds
    assert (sent["inside"], sent["after"]) == (0, 1), "sent on commit, nothing on rollback"
    with worker(env) as proc:
        out = produce(setup + RUN.replace("{kept!r}", repr(sent["kept"])), env, proc)
    assert out["kept"] == "committed"
    assert sorted(lines(tmp_path, "effects")) == ["committed", "once"], "rollback: never ran"

    keyed = out["keyed"]
    assert keyed.count("once") == 1, keyed
    assert {"status": "duplicate", "key": "tests.tasks.worker_tasks.effect:order-42"} in keyed

    assert out["flaky"] == 4, "three transient failures, then success"
    times = [float(t) for t in lines(tmp_path, "flaky")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # countdowns 1, 2, 4 s (no jitter): each retry waits at least its countdown
    assert all(g > d - 0.1 for g, d in zip(gaps, (1, 2, 4), strict=True)), gaps
    assert gaps[0] < gaps[1] < gaps[2], f"growing delays: {gaps}"

    assert out["broken"]["state"] == "FAILURE" and "permanent" in out["broken"]["error"]
    assert len(lines(tmp_path, "broken")) == 1, "a permanent error is not retried"


KILLED = """
task_id = worker_tasks.hold_then_write.delay(FOLDER).id
print(json.dumps(task_id))
"""

WAIT = """
from celery.result import AsyncResult
print(json.dumps(AsyncResult({task_id!r}).get(timeout=150)))
"""


def test_a_task_whose_worker_process_is_killed_runs_again_and_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    setup = SETUP.format(folder=str(tmp_path))
    with worker(env, concurrency=1) as proc:
        task_id = produce(setup + KILLED, env, proc)
        pid = int(wait_for(lambda: lines(tmp_path, "attempts"), what="the first attempt")[0])
        assert pid != proc.pid
        os.kill(pid, signal.SIGKILL)  # the pool process, mid-task (as the OOM killer does)
        (tmp_path / "release").touch()
        result = produce(setup + WAIT.format(task_id=task_id), env, proc, timeout=200)
    assert result == "written"
    attempts = lines(tmp_path, "attempts")
    assert len(attempts) == 2 and attempts[1] != attempts[0], "delivered again, new process"
    assert lines(tmp_path, "effects") == [task_id], "the effect exactly once"


def test_a_task_whose_whole_worker_is_killed_runs_after_a_restart_and_once(
    tmp_path: Path,
) -> None:
    """The embedded broker keeps a received task until it is acknowledged: the worker
    and its pool killed at once (a reboot, the container killed), a restarted worker
    gets it again at once (its claim's process is dead) and runs it once."""
    env = migrated(
        demo_env(PERFSUITE_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE=WORKER_SETTINGS)
    )
    setup = SETUP.format(folder=str(tmp_path))
    with worker(env, concurrency=1) as proc:
        task_id = produce(setup + KILLED, env, proc)
        child = int(wait_for(lambda: lines(tmp_path, "attempts"), what="the first attempt")[0])
        proc.kill()
        os.kill(child, signal.SIGKILL)
        proc.wait()
    claimed = list((tmp_path / "var" / "celery" / "broker" / ".claimed").glob("*/*.msg"))
    assert len(claimed) == 1, "the broker still holds the task, claimed by the dead worker"
    (tmp_path / "release").touch()
    with worker(env, concurrency=1) as proc:
        result = produce(setup + WAIT.format(task_id=task_id), env, proc, timeout=200)
    assert result == "written"
    attempts = lines(tmp_path, "attempts")
    assert len(attempts) == 2 and attempts[1] != attempts[0], "delivered again, new process"
    assert lines(tmp_path, "effects") == [task_id], "the effect exactly once"
    assert not list((tmp_path / "var" / "celery" / "broker").rglob("*.msg")), "acknowledged"


def test_the_demo_worker_gets_the_reliable_defaults(tmp_path: Path) -> None:
    code = (
        "from project.celery import app\n"  # as `celery -A project worker` does
        "print(app.conf.task_acks_late, app.conf.task_reject_on_worker_lost)\n"
    )
    result = run_python(code, demo_env(PERFSUITE_VAR_DIR=str(tmp_path)))
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_a_redelivered_task_outwaits_a_killed_attempts_mark() -> None:
    from perfsuite.tasks.idempotency import _ttls
    from perfsuite.tasks.reliable import ReliableTask

    running_ttl = _ttls()[0]
    for earlier in (0, 3, 40):  # retries already spent (transient errors, waits)
        countdown, budget = ReliableTask.running_retry(earlier)
        assert countdown * (budget - earlier) >= running_ttl
