"""A ``django.tasks`` backend (Django 6.0+) that runs tasks on the Celery workers.

    TASKS = {"default": {"BACKEND": "perfsuite.tasks.django_tasks.CeleryBackend"}}

    from django.tasks import task

    @task
    def recalculate(user_id: int) -> int: ...

    result = recalculate.enqueue(user_id=7)   # a message to Celery, sent after commit

Code written against Django's ``@task``/``enqueue`` then runs on the suite's workers
with its defaults: late acknowledgement, redelivery when a worker dies, the body once
per result id (``ReliableTask``), the task metrics. ``run_after`` becomes Celery's
``eta``; async task functions run through ``async_to_sync``. Results are Celery's
(``celery.result.AsyncResult(result.id)``): ``get_result`` is not supported.

On Django 5.2 ``django.tasks`` does not exist: the backend cannot be configured
there (use the ``django-tasks`` backport's own backends, or ``queue_task``).
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils.module_loading import import_string

from .reliable import ReliableTask

RUNNER = "perfsuite.tasks.run_django_task"

BaseTaskBackend: Any = None
try:  # Django 6.0+
    BaseTaskBackend = importlib.import_module("django.tasks.backends.base").BaseTaskBackend
    _base: Any = importlib.import_module("django.tasks.base")
    normalize_json: Any = importlib.import_module("django.utils.json").normalize_json
except ImportError:  # Django 5.2: no django.tasks
    pass


@shared_task(name=RUNNER, base=ReliableTask, bind=True)
def run_django_task(self: Any, path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run the ``django.tasks`` task at ``path`` in a Celery worker."""
    task = import_string(path)
    return task.call(*args, **kwargs)


if BaseTaskBackend is not None:

    class CeleryBackend(BaseTaskBackend):
        supports_defer = True
        supports_async_task = True
        supports_get_result = False
        supports_priority = False

        def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
            from .processor import publish

            self.validate_task(task)
            if task.takes_context:
                raise ValueError("CeleryBackend does not pass a TaskContext: drop takes_context")
            args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
            result_id = str(uuid.uuid4())
            payload = {"path": task.module_path, "args": args, "kwargs": kwargs}
            eta = task.run_after

            def send() -> None:
                publish(RUNNER, payload, result_id, {}, None, eta=eta)

            transaction.on_commit(send)
            return _base.TaskResult(
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

else:

    class CeleryBackend:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "perfsuite.tasks.django_tasks.CeleryBackend needs Django 6.0 or later "
                "(django.tasks); on Django 5.2 use queue_task()"
            )
