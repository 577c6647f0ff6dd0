"""A task that kills its process on every delivery (a poison task: the OOM killer, a
crashing extension) is dead-lettered after ``TASK_MAX_REDELIVERIES`` redeliveries, on
the embedded broker and on Redis: acknowledged, failed in the run history with the
reason, and the worker runs the tasks behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import demo_env
from tests.tasks.workers import migrated, produce, wait_for, worker

pytestmark = pytest.mark.slow

SETTINGS = "tests.tasks.dead_letter_settings"

SEND = """
import json
from tests.tasks import worker_tasks
poison = worker_tasks.poison.delay({folder!r}).id
after = worker_tasks.effect.delay({folder!r}, "after").id
print(json.dumps([poison, after]))
"""

READ = """
import json
from perfsuite.tasks.models import TaskRun
row = TaskRun.objects.filter(task_id={task_id!r}).values(
    "state", "redeliveries", "attempts", "error", "task_name", "args").first()
print(json.dumps(row, default=str))
"""


@pytest.fixture(params=["embedded", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    extra = {"PERFSUITE_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": SETTINGS}
    if request.param == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    return migrated(demo_env(**extra))


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_poison_task_is_dead_lettered_and_the_worker_moves_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    with worker(env, concurrency=1) as proc:
        poison, _after = produce(SEND.format(folder=str(tmp_path)), env, proc)
        wait_for(lambda: "after" in lines(tmp_path / "effects"), 150, "the task behind it")

        def dead() -> dict | None:
            row = produce(READ.format(task_id=poison), env, proc)
            return row if row and row["state"] == "DEAD" else None

        row = wait_for(dead, 30, "the dead letter in the run history")
    deliveries = lines(tmp_path / "poison")
    assert len(deliveries) == 3, f"the first delivery and two redeliveries ran: {deliveries}"
    assert len(set(deliveries)) == 3, "each in a new pool process"
    assert row["redeliveries"] == 3 and row["attempts"] == 4, row
    assert "TASK_MAX_REDELIVERIES" in row["error"], row
    assert row["task_name"] == "tests.tasks.worker_tasks.poison"
    assert row["args"] == [str(tmp_path)], "its arguments kept for a retry by hand"
