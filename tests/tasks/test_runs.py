"""The run history's writer and retention through their public functions: records
of one run merge, a worker's row is never overwritten by a late "queued", an
unreachable database keeps the buffer (bounded) and writes it later, and
``task_runs_purge`` applies the retention and the row cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.db.models import QuerySet
from django.test import override_settings

from perfsuite.tasks import runs
from perfsuite.tasks.models import TaskRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, settings: Any) -> runs.Recorder:
    settings.PERFSUITE = {**settings.PERFSUITE, "TASK_RUN_HISTORY": True}
    fresh = runs.Recorder()
    monkeypatch.setattr(fresh, "_start", lambda: None)  # flushed by the test, not a thread
    monkeypatch.setattr(runs, "recorder", fresh)
    return fresh


def test_a_runs_records_merge_and_a_late_queued_changes_nothing(recorder: Any) -> None:
    runs.started("t1", {"task_name": "app.job", "worker": "celery@a", "attempts": 1})
    runs.finished("t1", {"state": "SUCCESS", "duration": 0.25})
    assert runs.flush()
    runs.queued("t1", "app.job", "celery")  # the publisher's record arrives last
    runs.queued("t2", "app.other", "emails")
    assert runs.flush()
    one = TaskRun.objects.get(task_id="t1")
    assert (one.state, one.worker, one.attempts, one.duration) == ("SUCCESS", "celery@a", 1, 0.25)
    two = TaskRun.objects.get(task_id="t2")
    assert (two.state, two.queue, two.task_name) == ("QUEUED", "emails", "app.other")
    assert two.enqueued_at is not None


def test_an_unreachable_database_keeps_the_records_for_later(
    recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs.finished("t3", {"task_name": "app.job", "state": "FAILURE", "error": "boom"})

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the database is down")

    with monkeypatch.context() as patched:
        patched.setattr(CursorWrapper, "executemany", down)
        patched.setattr(QuerySet, "bulk_create", down)
        assert not runs.flush()
    assert not TaskRun.objects.filter(task_id="t3").exists()
    assert runs.flush()
    assert TaskRun.objects.get(task_id="t3").error == "boom"


def test_the_buffer_is_bounded(recorder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "MAX_BUFFERED", 10)
    for n in range(25):
        runs.started(f"b{n}", {"task_name": "app.job"})
    assert len(recorder.updates) == 10 and recorder.dropped == 15
    assert next(iter(recorder.updates)) == "b15", "the oldest are dropped"


def test_purge_applies_the_retention_and_the_cap() -> None:
    TaskRun.objects.all().delete()  # runs other tests' processes left in this database
    now = datetime.now(UTC)
    TaskRun.objects.bulk_create(
        [
            TaskRun(task_id=f"old{n}", task_name="j", updated_at=now - timedelta(days=9))
            for n in range(3)
        ]
        + [
            TaskRun(task_id=f"new{n}", task_name="j", updated_at=now - timedelta(minutes=n))
            for n in range(5)
        ]
    )
    out = StringIO()
    with override_settings(PERFSUITE={"TASK_RUN_MAX_ROWS": 4}):
        call_command("task_runs_purge", stdout=out)
    assert "deleted 3 expired and 1 over the cap" in out.getvalue()
    assert sorted(TaskRun.objects.values_list("task_id", flat=True)) == [
        "new0",
        "new1",
        "new2",
        "new3",
    ]


def test_nothing_is_buffered_with_the_history_off(recorder: Any, settings: Any) -> None:
    settings.PERFSUITE = {**settings.PERFSUITE, "TASK_RUN_HISTORY": False}
    runs.started("off", {"task_name": "app.job"})
    assert not recorder.updates and not recorder.queued


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_upserts_on_postgresql(
    postgres_alias: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """The plain ON CONFLICT statements on PostgreSQL: defaults filled on insert, a
    later record's fields set, a late "queued" changing nothing, JSON and times kept."""
    settings.PERFSUITE = {**settings.PERFSUITE, "TASK_RUN_HISTORY": True}
    fresh = runs.Recorder()
    monkeypatch.setattr(fresh, "_start", lambda: None)
    monkeypatch.setattr(runs, "recorder", fresh)
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    runs.started("p1", {"task_name": "app.job", "started_at": at, "attempts": 2})
    assert runs.flush()
    runs.finished("p1", {"state": "FAILURE", "error": "boom", "kwargs": {"n": [1, "é"]}})
    runs.queued("p1", "app.job", "celery")
    assert runs.flush()
    row = TaskRun.objects.using(postgres_alias).get(task_id="p1")
    assert (row.state, row.attempts, row.error, row.redeliveries) == ("FAILURE", 2, "boom", 0)
    assert row.started_at == at and row.kwargs == {"n": [1, "é"]} and row.queue == ""
