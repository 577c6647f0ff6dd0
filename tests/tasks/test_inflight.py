"""What a whole worker SIGKILLed leaves in flight is visible: ``taskstats`` lists the
unacknowledged message with its task, the worker that took it, its age and when it
will be delivered again (Redis: after the visibility timeout; the embedded broker:
its owner is dead, so within the recovery interval of the next worker), and a run
that holds longer than its stuck threshold is flagged as stuck."""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import demo_env, manage
from tests.tasks.workers import migrated, produce, wait_for, worker

pytestmark = pytest.mark.slow

SEND = """
import json
from tests.tasks import worker_tasks
print(json.dumps(worker_tasks.hold_then_write.delay({folder!r}).id))
"""


@pytest.fixture(params=["embedded", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    extra = {
        "PERFSUITE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "tests.tasks.inflight_settings",
    }
    if request.param == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    return migrated(demo_env(**extra))


def taskstats(env: dict[str, str]) -> dict:
    result = manage("taskstats", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def attempts(folder: Path) -> list[str]:
    path = folder / "attempts"
    return path.read_text().splitlines() if path.exists() else []


def test_a_killed_workers_message_and_a_stuck_run_are_shown(
    env: dict[str, str], tmp_path: Path
) -> None:
    with worker(env, concurrency=1) as proc:
        task_id = produce(SEND.format(folder=str(tmp_path)), env, proc)
        child = int(wait_for(lambda: attempts(tmp_path), 60, "the attempt")[0])

        def stuck() -> list:
            return [s for s in taskstats(env)["stuck"] if s["task_id"] == task_id]

        found = wait_for(stuck, 30, "the run flagged as stuck")[0]
        assert found["worker"].startswith("celery@") and found["running_seconds"] >= 1
        proc.kill()  # the whole worker at once: a lost machine, a container killed
        os.kill(child, signal.SIGKILL)
        proc.wait()
    data = taskstats(env)
    assert data["broker_error"] == ""
    entries = [m for m in data["unacknowledged"] if m["task_id"] == task_id]
    assert len(entries) == 1, data["unacknowledged"]
    entry = entries[0]
    assert entry["task"] == "tests.tasks.worker_tasks.hold_then_write"
    assert entry["age_seconds"] >= 0
    taken = datetime.fromisoformat(entry["taken_at"])
    if "REDIS_URL" in env:
        assert entry["worker"].startswith("celery@"), "the worker that took it, from the runs"
        again = datetime.fromisoformat(entry["redelivery_at"])
        assert abs((again - taken) - timedelta(hours=6)) < timedelta(seconds=5)
    else:
        assert entry["owner_alive"] is False, "its owner process is dead"
    text = manage("taskstats", env=env).stdout
    assert "unacknowledged: 1" in text and task_id in text
