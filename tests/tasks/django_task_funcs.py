"""``django.tasks`` tasks for the backend tests (Django 6.0+ only: imported by them,
by their producer processes and by the workers that run them).

With ``CONTRACT_SIGNAL_LOG`` set, every process that imports this module appends
Django's task signals it sends to that file, one JSON line each (which process sent
which signal, with what)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from django.tasks import task  # type: ignore[import-not-found, unused-ignore]


@task
def write_marker(path: str, text: str) -> str:
    with Path(path).open("a") as marker:  # appended: a second run would show
        marker.write(text + "\n")
    return text


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """What the task received, and the types it received."""
    return {
        "args": args,
        "kwargs": kwargs,
        "types": [type(a).__name__ for a in args],
        "kwarg_types": {k: type(v).__name__ for k, v in kwargs.items()},
    }


@task
def fail(message: str) -> None:
    raise ValueError(message)


@task
def not_json() -> object:
    return object()


@task
def double_dictionary(key: Any) -> dict[Any, Any]:
    """Django's docs' example: a tuple argument arrives a list, not a dictionary key."""
    return {key: key * 2}


@task
async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


@task(takes_context=True)
def context_of(context: Any, label: str) -> dict[str, Any]:
    result = context.task_result
    return {
        "label": label,
        "id": result.id,
        "attempt": context.attempt,
        "status": str(result.status),
        "worker_ids": result.worker_ids,
        "task": result.task.module_path,
    }


@task
def pid_of_run() -> int:
    return os.getpid()


@task
def sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


def _log_signal(name: str) -> Any:
    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        line = {
            "signal": name,
            "pid": os.getpid(),
            "sender": f"{sender.__module__}.{sender.__qualname__}",
            "id": task_result.id,
            "status": str(task_result.status),
            "task": task_result.task.module_path,
            "errors": [e.exception_class_path for e in task_result.errors],
            "enqueued": task_result.enqueued_at is not None,
        }
        with Path(os.environ["CONTRACT_SIGNAL_LOG"]).open("a") as log:
            log.write(json.dumps(line) + "\n")

    return receiver


if os.environ.get("CONTRACT_SIGNAL_LOG"):
    from django.tasks import signals  # type: ignore[import-not-found, unused-ignore]

    for _name in ("task_enqueued", "task_started", "task_finished"):
        getattr(signals, _name).connect(
            _log_signal(_name), weak=False, dispatch_uid=f"contract-log-{_name}"
        )
