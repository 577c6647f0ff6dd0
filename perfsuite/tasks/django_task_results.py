"""The Celery side of :mod:`.django_tasks`: Django's queue names and priorities as
Celery's, the run of a ``django.tasks`` task in a worker (its ``TaskContext``, its
signals, its run record) and its ``TaskResult`` read back from the run history.

A run's record (:class:`.models.TaskRun`, :mod:`.runs`) is the result store: the
publishing process buffers it as queued (with the call: ``kwargs`` holds the runner's
own arguments, the task's path, its arguments and its enqueue options, so a retry by
hand sends it again); the worker writes it **synchronously** when the body starts and
after Celery's ``task_postrun`` (success) or ``task_failure`` (failure, retry), so a
result read once the worker acknowledged the message is final and exact.
"""

from __future__ import annotations

import importlib
import traceback as tb
from dataclasses import fields
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.module_loading import import_string

from . import runs

#: the message header carrying the enqueue time the caller's ``TaskResult`` shows
ENQUEUED_HEADER = "perfsuite_django_enqueued_at"
#: set on the Celery request once the body returned (its record waits for postrun)
_RETURNED = "perfsuite_django_returned"
_POSTRUN_UID = "perfsuite.tasks.django_task_results.flush_after_postrun"

_base: Any = None
_signals: Any = None
normalize_json: Any = None
try:  # Django 6.0+
    _base = importlib.import_module("django.tasks.base")
    _signals = importlib.import_module("django.tasks.signals")
    normalize_json = importlib.import_module("django.utils.json").normalize_json
except ImportError:  # Django 5.2: no django.tasks
    pass

#: TaskRun.state -> Django's TaskResultStatus (a retry waits: ready to run again)
STATUSES = {
    "QUEUED": "READY",
    "RETRY": "READY",
    "STARTED": "RUNNING",
    "SUCCESS": "SUCCESSFUL",
    "FAILURE": "FAILED",
    "DEAD": "FAILED",
}


# -- names and priorities ---------------------------------------------------------
def celery_queue(app: Any, queue_name: str) -> str:
    """Django's queue name as a Celery queue: ``"default"`` is the app's default
    queue (``task_default_queue``, ``celery`` unless set), any other keeps its name."""
    if queue_name == "default":
        return str(app.conf.task_default_queue or "celery")
    return queue_name


def priority_steps(app: Any) -> list[int] | None:
    """The broker's priority steps, lowest number served first (Redis: kombu's
    ``priority_steps``, ``[0, 3, 6, 9]`` unless set); ``None``: no priorities."""
    conn = app.connection_for_write()
    try:
        transport = conn.transport
        if getattr(transport, "driver_type", "") != "redis":
            return None
        options = conn.transport_options or {}
        steps = options.get("priority_steps") or transport.Channel.priority_steps
        return sorted(int(step) for step in steps)
    finally:
        conn.release()


def celery_priority(priority: int, steps: list[int]) -> int:
    """Django's priority (-100..100, higher first) as a kombu priority on ``steps``
    (lower first): 0 is the middle step, every positive priority a step before it,
    every negative one a step after it; beyond that the range is shared out evenly."""
    middle = len(steps) // 2
    if priority > 0:
        index = middle - -(-priority * middle // 100)
    elif priority < 0:
        index = middle + -(priority * (len(steps) - 1 - middle) // 100)
    else:
        index = middle
    return steps[max(0, min(len(steps) - 1, index))]


# -- tasks and results -----------------------------------------------------------
def rebuilt(task: Any, options: dict[str, Any]) -> Any:
    """``task`` with its enqueue options, not validated again (the enqueuing side
    did: a worker's or reader's ``TASKS`` may list other queues)."""
    values = {f.name: getattr(task, f.name) for f in fields(task)}
    for name in ("queue_name", "priority", "backend"):
        if options.get(name) is not None:
            values[name] = options[name]
    if options.get("run_after"):
        values["run_after"] = datetime.fromisoformat(options["run_after"])
    new = object.__new__(type(task))
    for name, value in values.items():
        object.__setattr__(new, name, value)
    return new


def error_of(exc: BaseException) -> Any:
    kind = type(exc)
    return _base.TaskError(
        exception_class_path=f"{kind.__module__}.{kind.__qualname__}",
        traceback="".join(tb.format_exception(exc)),
    )


def result_of(row: Any, alias: str) -> Any:
    """The ``TaskResult`` of a run record (``TaskResultDoesNotExist``: not one of a
    ``django.tasks`` task)."""
    exceptions = importlib.import_module("django.tasks.exceptions")
    payload = row.kwargs if isinstance(row.kwargs, dict) else {}
    try:
        task = import_string(str(payload["path"]))
    except (KeyError, ImportError, AttributeError, ValueError):
        raise exceptions.TaskResultDoesNotExist(row.task_id) from None
    if not isinstance(task, _base.Task):
        raise exceptions.TaskResultDoesNotExist(row.task_id)
    status = _base.TaskResultStatus(STATUSES.get(row.state, "READY"))
    errors = []
    if row.exception_class_path and status == _base.TaskResultStatus.FAILED:
        trace = row.traceback or row.error
        errors.append(
            _base.TaskError(exception_class_path=row.exception_class_path, traceback=trace)
        )
    result = _base.TaskResult(
        task=rebuilt(task, {**(payload.get("options") or {}), "backend": alias}),
        id=row.task_id,
        status=status,
        enqueued_at=row.enqueued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        last_attempted_at=row.last_attempted_at,
        args=list(payload.get("args") or []),
        kwargs=dict(payload.get("kwargs") or {}),
        backend=alias,
        errors=errors,
        worker_ids=[row.worker or "unknown"] * int(row.attempts or 0),
    )
    if status == _base.TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", row.return_value)
    return result


def get_result(alias: str, result_id: Any, runner: str) -> Any:
    from django.db import router

    from .models import TaskRun

    exceptions = importlib.import_module("django.tasks.exceptions")
    runs.flush()  # this process's own records (its enqueues) first
    row = (
        TaskRun.objects.using(router.db_for_read(TaskRun))
        .filter(task_id=str(result_id), task_name=runner)
        .first()
    )
    if row is None:
        raise exceptions.TaskResultDoesNotExist(str(result_id))
    return result_of(row, alias)


# -- the worker ------------------------------------------------------------------
def _buffered(task_id: str) -> dict[str, Any]:
    """What Celery's signals recorded of this run so far (``task_prerun``: the start,
    the attempt, the publish time), so the context and the signals show the record."""
    with runs.recorder.lock:
        return dict(runs.recorder.updates.get(task_id) or {})


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def flush_after_postrun(sender: Any = None, task: Any = None, **kwargs: Any) -> None:
    """After ``task_postrun`` recorded the success (connected after it): write now."""
    request = getattr(task or sender, "request", None)
    if request is not None and getattr(request, _RETURNED, False):
        runs.flush()


def _connect_postrun() -> None:
    # connected from the first run of a process, so after the run records' receivers
    from celery.signals import task_postrun

    task_postrun.connect(flush_after_postrun, weak=False, dispatch_uid=_POSTRUN_UID)


def _retries(runner: Any, exc: Exception) -> bool:
    """Whether Celery retries the run after ``exc`` (the result is ready again)."""
    if not isinstance(exc, tuple(runner.autoretry_for or ())):
        return False
    limit = runner.max_retries
    return limit is None or int(runner.request.retries or 0) < int(limit)


def run(
    runner: Any,
    path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    options: Any,
    backend_class: Any,
) -> Any:
    """Run the ``django.tasks`` task at ``path`` in the worker, as Django does
    (``backend_class``: the signals' sender when the task's alias is not configured
    in this worker)."""
    request = runner.request
    options = options if isinstance(options, dict) else {}
    task = rebuilt(import_string(path), options)
    task_id = str(request.id)
    recording = not request.is_eager and runs.enabled()
    seen = _buffered(task_id) if recording else {}
    enqueued = _when((request.headers or {}).get(ENQUEUED_HEADER)) or seen.get("enqueued_at")
    if recording:
        payload = {"path": path, "args": args, "kwargs": kwargs, "options": options}
        record: dict[str, Any] = {"args": [], "kwargs": payload}
        if enqueued is not None:
            record["enqueued_at"] = enqueued
        runs.started(task_id, record)
        runs.flush()  # RUNNING is read as soon as the body starts
        _connect_postrun()
    started = seen.get("started_at") or timezone.now()
    attempt = int(seen.get("attempts") or int(request.retries or 0) + 1)
    result = _base.TaskResult(
        task=task,
        id=task_id,
        status=_base.TaskResultStatus.RUNNING,
        enqueued_at=enqueued,
        started_at=started,
        last_attempted_at=seen.get("last_attempted_at") or started,
        finished_at=None,
        args=args,
        kwargs=kwargs,
        backend=options.get("backend") or task.backend,
        errors=[],
        worker_ids=[str(request.hostname or "unknown")] * attempt,
    )
    sender = _sender(task, backend_class)
    _signals.task_started.send(sender=sender, task_result=result)
    try:
        if task.takes_context:
            value = task.call(_base.TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        value = normalize_json(value)  # a value JSON cannot hold fails the task
    except Exception as exc:
        if not _retries(runner, exc):
            object.__setattr__(result, "finished_at", timezone.now())
            object.__setattr__(result, "status", _base.TaskResultStatus.FAILED)
            result.errors.append(error_of(exc))
            _signals.task_finished.send(sender=sender, task_result=result)
        raise
    if recording:
        runs.finished(task_id, {"return_value": value})  # written after task_postrun
        setattr(request, _RETURNED, True)
    object.__setattr__(result, "_return_value", value)
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "status", _base.TaskResultStatus.SUCCESSFUL)
    _signals.task_finished.send(sender=sender, task_result=result)
    return value


def _sender(task: Any, fallback: Any) -> Any:
    """The backend class, as Django sends its signals (``sender``)."""
    try:
        return type(task.get_backend())
    except Exception:  # the alias is not configured in this worker
        return fallback
