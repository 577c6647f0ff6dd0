"""``perfsuite.tasks.django_tasks.CeleryBackend`` in one process: the mapping of
Django's queues and priorities onto Celery's, the message it sends, the result it reads
back from a run record; on Django 5.2 the backend says it cannot be used. Django's
contract with real workers: ``test_django_tasks_contract.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import django
import pytest
from celery import Celery
from django.core.exceptions import ImproperlyConfigured

from perfsuite.tasks import django_task_results as results
from perfsuite.tasks import django_tasks
from perfsuite.tasks.django_tasks import RUNNER, CeleryBackend
from perfsuite.tasks.processor import BrokerUnavailable

NATIVE = django.VERSION >= (6, 0)
needs_tasks = pytest.mark.skipif(not NATIVE, reason="django.tasks is Django 6.0+")
BACKEND = {"BACKEND": "perfsuite.tasks.django_tasks.CeleryBackend", "QUEUES": ["default", "emails"]}


def test_the_backend_needs_django_6(monkeypatch: pytest.MonkeyPatch) -> None:
    if NATIVE:
        for history in (True, False):  # results are the run history
            monkeypatch.setattr(django_tasks.runs, "enabled", lambda h=history: h)
            assert CeleryBackend("default", {}).supports_get_result is history
        return
    with pytest.raises(ImproperlyConfigured, match=r"Django 6\.0"):
        CeleryBackend("default", {})


def test_django_queues_are_celery_queues() -> None:
    app = Celery("t", set_as_current=False)
    assert results.celery_queue(app, "default") == "celery"
    assert results.celery_queue(app, "emails") == "emails"
    app.conf.task_default_queue = "main"
    assert results.celery_queue(app, "default") == "main"


def test_only_a_broker_with_priorities_has_steps() -> None:
    redis = Celery("t", broker="redis://127.0.0.1:1/0", set_as_current=False)
    assert results.priority_steps(redis) == [0, 3, 6, 9]  # no connection made
    redis.conf.broker_transport_options = {"priority_steps": list(range(10))}
    assert results.priority_steps(redis) == list(range(10))
    for url in ("filesystem://", "memory://"):
        assert results.priority_steps(Celery("t", broker=url, set_as_current=False)) is None


@pytest.mark.parametrize("steps", [[0, 3, 6, 9], list(range(10))])
def test_a_higher_django_priority_is_a_lower_kombu_step(steps: list[int]) -> None:
    mapped = [results.celery_priority(p, steps) for p in range(-100, 101)]
    assert mapped == sorted(mapped, reverse=True)  # never a higher one served later
    middle = results.celery_priority(0, steps)
    assert results.celery_priority(1, steps) < middle < results.celery_priority(-1, steps)
    assert results.celery_priority(100, steps) == steps[0]
    assert results.celery_priority(-100, steps) == steps[-1]
    assert set(mapped) == set(steps)


def test_the_default_steps_share_django_priorities_out() -> None:
    steps = [0, 3, 6, 9]
    assert {p: results.celery_priority(p, steps) for p in (100, 51, 50, 1, 0, -1, -100)} == {
        100: 0,
        51: 0,
        50: 3,
        1: 3,
        0: 6,
        -1: 9,
        -100: 9,
    }


@pytest.fixture
def backend(settings: Any) -> Any:
    settings.TASKS = {"default": BACKEND}
    from django.tasks import task_backends  # type: ignore[import-not-found, unused-ignore]

    return task_backends["default"]


@needs_tasks
@pytest.mark.django_db
def test_the_message_carries_the_queue_eta_and_the_enqueue(
    backend: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.tasks import django_task_funcs as funcs

    sent: list[Any] = []
    monkeypatch.setattr(django_tasks, "publish", lambda *args: sent.append(args))
    monkeypatch.setattr(django_tasks.runs, "enabled", lambda: False)
    backend.priority_steps = [0, 3, 6, 9]
    after = datetime.now(UTC) + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):  # sent when it commits
        result = funcs.add.using(queue_name="emails", run_after=after).enqueue(1, b=2)
        assert result.enqueued_at is None and not sent
    [(payload, task_id, options)] = sent
    assert task_id == result.id and result.enqueued_at is not None
    assert payload == {
        "path": "tests.tasks.django_task_funcs.add",
        "args": [1],
        "kwargs": {"b": 2},
        "options": {
            "queue_name": "emails",
            "priority": 0,
            "run_after": after.isoformat(),
            "backend": "default",
        },
    }
    assert options["queue"] == "emails" and options["eta"] == after
    assert options["priority"] == 6
    enqueued = datetime.fromisoformat(options["headers"][results.ENQUEUED_HEADER])
    assert enqueued == result.enqueued_at


@needs_tasks
@pytest.mark.django_db
def test_an_unreachable_broker_fails_the_enqueue(
    backend: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.tasks import django_task_funcs as funcs

    def down(*args: Any) -> None:
        raise BrokerUnavailable("the task broker is unreachable: refused")

    monkeypatch.setattr(django_tasks, "publish", down)
    monkeypatch.setattr(django_tasks.runs, "enabled", lambda: False)
    with pytest.raises(BrokerUnavailable), django_capture_on_commit_callbacks(execute=True):
        funcs.add.enqueue(1, 2)


def _row(**fields: Any) -> Any:
    from perfsuite.tasks.models import TaskRun

    payload = {"path": "tests.tasks.django_task_funcs.add", "args": [1], "kwargs": {"b": 2}}
    payload["options"] = {"queue_name": "emails", "priority": 0, "run_after": None}
    at = datetime(2030, 1, 1, tzinfo=UTC)
    values = {"task_id": "r1", "task_name": RUNNER, "enqueued_at": at, "kwargs": payload}
    return TaskRun(**{**values, "updated_at": at, **fields})


@needs_tasks
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("QUEUED", "READY"),
        ("STARTED", "RUNNING"),
        ("RETRY", "READY"),
        ("SUCCESS", "SUCCESSFUL"),
        ("FAILURE", "FAILED"),
        ("DEAD", "FAILED"),
    ],
)
def test_a_run_record_is_a_task_result(backend: Any, state: str, status: str) -> None:
    row = _row(state=state, worker="w@h", attempts=2, return_value={"n": 3})
    row.exception_class_path = "builtins.ValueError" if status == "FAILED" else ""
    row.traceback = "Traceback ...\nValueError: no\n"
    result = results.result_of(row, "default")
    assert result.status == status and result.id == "r1" and result.backend == "default"
    assert result.task.queue_name == "emails" and result.task.func.__name__ == "add"
    assert (result.args, result.kwargs) == ([1], {"b": 2})
    assert result.worker_ids == ["w@h", "w@h"] and result.attempts == 2
    if status == "SUCCESSFUL":
        assert result.return_value == {"n": 3}
    if status == "FAILED":
        assert result.errors[0].exception_class is ValueError
        assert result.errors[0].traceback.endswith("ValueError: no\n")
    else:
        assert result.errors == []


@needs_tasks
def test_a_run_record_of_no_django_task_does_not_exist(backend: Any) -> None:
    from django.tasks.exceptions import (  # type: ignore[import-not-found, unused-ignore]
        TaskResultDoesNotExist,
    )

    for kwargs in ({}, {"path": "no.such.task"}, {"path": "os.path.join"}):
        with pytest.raises(TaskResultDoesNotExist):
            results.result_of(_row(state="QUEUED", kwargs=kwargs), "default")
