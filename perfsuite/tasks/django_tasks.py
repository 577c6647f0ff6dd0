"""A ``django.tasks`` backend (Django 6.0+) that runs tasks on the Celery workers.

    TASKS = {"default": {"BACKEND": "perfsuite.tasks.django_tasks.CeleryBackend",
                         "QUEUES": ["default", "emails"]}}

    from django.tasks import task

    @task
    def recalculate(user_id: int) -> int: ...

    result = recalculate.enqueue(user_id=7)   # a message to Celery, sent after commit
    result.refresh(); result.status, result.return_value

Code written against Django's ``@task``/``enqueue`` runs on the suite's workers with
their defaults (late acknowledgement, redelivery when a worker dies, the body once per
result id: ``ReliableTask``; the task metrics), and keeps Django's contract. What
holds, each a row of ``tests/tasks/test_django_tasks_contract.py`` on Django's
``ImmediateBackend`` and on this backend with real workers (file-system broker, Redis):

1. ``enqueue()`` returns a ``TaskResult`` of the task: its ``task``, ``backend``,
   JSON-normalised ``args``/``kwargs``, a new string id under 64 characters;
2. the task runs, once, and its result becomes ``SUCCESSFUL`` with the return value;
3. ``enqueued_at <= started_at <= finished_at``, ``last_attempted_at``, aware;
   ``attempts`` is 1, one ``worker_ids`` entry;
4. the ``return_value`` of an unfinished result raises ``ValueError``;
5. a task that raises is ``FAILED``: ``return_value`` raises, ``errors[0]`` has the
   ``exception_class`` and the traceback;
6. a return value JSON cannot hold fails the task (``TypeError``);
7. arguments reach the task as JSON gives them back (a tuple arrives a list);
8. arguments that are not JSON are a ``TypeError`` at enqueue (and ``aenqueue``);
9. ``aenqueue()`` enqueues from async code;
10. async task functions run (``supports_async_task``);
11. ``takes_context``: the task gets its ``TaskContext`` (result, attempt 1);
12. ``Task.using()`` makes a new task (queue, priority, run_after), the old unchanged;
13. a queue not in ``QUEUES`` is ``InvalidTask``;
14. a task runs on the workers of its queue only: Django's ``"default"`` is the app's
    ``task_default_queue`` (``celery``), any other queue keeps its name;
15. ``priority``: -100..100, whole; where ``supports_priority`` (Redis: kombu's
    priority steps, lower first; Django's 0 is the middle step, positive before,
    negative after) higher runs first among waiting tasks; elsewhere ``InvalidTask``;
16. ``run_after`` (aware, ``supports_defer``): Celery's ``eta``, never started before;
17. ``get_result(id)`` from another thread or process gives the current result;
18. ``refresh()`` / ``arefresh()`` update a result in place (READY, RUNNING, ...);
19. ``aget_result()`` on the backend and on the task;
20. an unknown id is ``TaskResultDoesNotExist``;
21. another task's id is ``TaskResultMismatch``;
22. ``task_enqueued`` is sent in the enqueuing process, ``task_started`` and
    ``task_finished`` in the worker, ``sender`` the backend class, with the result;
23. enqueued inside a transaction, a task is enqueued at once: **not here** (the one
    difference, on purpose): the message is sent, ``enqueued_at`` set and
    ``task_enqueued`` sent when the transaction commits (none on a rollback), so a
    worker never runs a task whose data it cannot see yet.

Results are the run history (:class:`.models.TaskRun`, :mod:`.django_task_results`):
exact once a worker acknowledged the run; a result enqueued by another process is
found once that process wrote its records (``TASK_RUN_FLUSH_INTERVAL``, at its exit)
or a worker started the run; kept ``TASK_RUN_RETENTION``. ``TASK_RUN_HISTORY = False``
turns results off (``supports_get_result`` False). On Django 5.2 ``django.tasks``
does not exist: the backend cannot be configured there (use ``queue_task``).
"""

from __future__ import annotations

import atexit
import importlib
import os
import uuid
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import processor, runs
from .django_task_results import (
    ENQUEUED_HEADER,
    celery_priority,
    celery_queue,
    get_result,
    priority_steps,
    run,
)
from .processor import BrokerUnavailable
from .reliable import ReliableTask

RUNNER = "perfsuite.tasks.run_django_task"

BaseTaskBackend: Any = None
try:  # Django 6.0+
    BaseTaskBackend = importlib.import_module("django.tasks.backends.base").BaseTaskBackend
    _base: Any = importlib.import_module("django.tasks.base")
    _signals: Any = importlib.import_module("django.tasks.signals")
    normalize_json: Any = importlib.import_module("django.utils.json").normalize_json
except ImportError:  # Django 5.2: no django.tasks
    pass


@shared_task(name=RUNNER, base=ReliableTask, bind=True)
def run_django_task(
    self: Any,
    path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    options: dict[str, Any] | None = None,
) -> Any:
    """Run the ``django.tasks`` task at ``path`` in a Celery worker."""
    return run(self, path, args, kwargs, options, CeleryBackend)


_exit_flush: list[int] = []


def _flush_at_exit() -> None:
    """A process that enqueues and exits (a command, a script) writes its records."""
    if os.getpid() not in _exit_flush:
        _exit_flush.append(os.getpid())
        atexit.register(runs.flush)


class _Routed:
    """The runner sent to a queue, with a priority: what :func:`.processor.publish`
    calls (its bounded retries, its errors) with the routing options added."""

    def __init__(self, task: Any, options: dict[str, Any]) -> None:
        self.task, self.options, self.app = task, options, task.app

    def apply_async(self, **kwargs: Any) -> Any:
        return self.task.apply_async(**kwargs, **self.options)


def publish(payload: dict[str, Any], task_id: str, options: dict[str, Any]) -> None:
    """Send the runner's message (``BrokerUnavailable`` when it cannot be sent)."""
    from celery import current_app

    routing = {k: v for k, v in options.items() if k in ("queue", "priority")}
    runner = _Routed(current_app.tasks[RUNNER], routing)
    processor.publish(
        runner, payload, task_id, options.get("headers") or {}, None, options.get("eta")
    )


if BaseTaskBackend is not None:

    class CeleryBackend(BaseTaskBackend):
        supports_defer = True
        supports_async_task = True
        supports_get_result = True
        supports_priority = False  # per broker: see __init__

        def __init__(self, alias: str, params: dict[str, Any]) -> None:
            from celery import current_app

            super().__init__(alias, params)
            self.app = current_app
            self.priority_steps = priority_steps(current_app)
            self.supports_priority = self.priority_steps is not None
            self.supports_get_result = runs.enabled()

        def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
            self.validate_task(task)
            args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
            result_id = str(uuid.uuid4())
            queue = celery_queue(self.app, task.queue_name)
            run_after = task.run_after.isoformat() if task.run_after else None
            options = {
                "queue_name": task.queue_name,
                "priority": task.priority,
                "run_after": run_after,
                "backend": self.alias,
            }
            payload = {"path": task.module_path, "args": args, "kwargs": kwargs}
            payload["options"] = options
            sending: dict[str, Any] = {"queue": queue, "eta": task.run_after}
            if self.priority_steps is not None:
                sending["priority"] = celery_priority(task.priority, self.priority_steps)
            result = _base.TaskResult(
                task=task,
                id=result_id,
                status=_base.TaskResultStatus.READY,
                enqueued_at=None,
                started_at=None,
                last_attempted_at=None,
                finished_at=None,
                args=args,
                kwargs=kwargs,
                backend=self.alias,
                errors=[],
                worker_ids=[],
            )

            def send() -> None:
                at = timezone.now()
                object.__setattr__(result, "enqueued_at", at)
                if runs.enabled():
                    fields = {"task_name": RUNNER, "queue": queue, "enqueued_at": at}
                    fields.update(state="QUEUED", updated_at=at, args=[], kwargs=payload)
                    runs.recorder.add(result_id, fields, queued=True)
                    _flush_at_exit()
                headers = {ENQUEUED_HEADER: at.isoformat()}
                try:
                    publish(payload, result_id, {**sending, "headers": headers})
                except BrokerUnavailable as exc:
                    self._not_sent(result, exc)
                    raise
                _signals.task_enqueued.send(type(self), task_result=result)

            transaction.on_commit(send)  # at once outside a transaction
            return result

        def _not_sent(self, result: Any, exc: BaseException) -> None:
            from .django_task_results import error_of

            error = error_of(exc)
            at = timezone.now()
            object.__setattr__(result, "status", _base.TaskResultStatus.FAILED)
            object.__setattr__(result, "finished_at", at)
            result.errors.append(error)
            if runs.enabled():
                runs.finished(
                    result.id,
                    {
                        "state": "FAILURE",
                        "finished_at": at,
                        "exception_class_path": error.exception_class_path,
                        "error": runs.bounded(str(exc), runs.MAX_ERROR),
                        "traceback": runs.bounded(error.traceback, runs.MAX_TRACEBACK),
                    },
                )

        def get_result(self, result_id: Any) -> Any:
            if not self.supports_get_result:
                return super().get_result(result_id)  # NotImplementedError
            return get_result(self.alias, result_id, RUNNER)

else:

    class CeleryBackend:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "perfsuite.tasks.django_tasks.CeleryBackend needs Django 6.0 or later "
                "(django.tasks); on Django 5.2 use queue_task()"
            )
