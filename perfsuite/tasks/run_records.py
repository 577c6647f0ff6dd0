"""Celery's signals as run records (:mod:`.runs`), connected with the task metrics'
receivers (:mod:`.signals`).

- ``after_task_publish`` (the publishing process): the run is queued;
- ``task_prerun`` (the worker): started, with the attempt number, the worker and the
  publish time the message carries;
- ``task_postrun``: succeeded, or retry scheduled; ``task_failure`` (sent before it,
  with the traceback): failed, or dead-lettered (:class:`.reliable.DeadLettered`),
  written at once;
- eager runs are not runs of a worker: never recorded.
"""

from __future__ import annotations

import logging
import traceback as tb
from datetime import UTC, datetime
from typing import Any

from perfsuite.core.conf import perf_settings

from . import runs
from .messages import PUBLISHED_HEADER, epoch, header_of, name_of

logger = logging.getLogger("perfsuite.tasks")

_START = "perfsuite_run_started"
_ARGUMENTS_KEPT_FOR = ("FAILURE", "DEAD")


def _eager(request: Any) -> bool:
    return bool(getattr(request, "is_eager", False))


def _arguments(args: Any, kwargs: Any) -> dict[str, Any]:
    return {"args": list(args or ()), "kwargs": dict(kwargs or {})}


def on_published(
    sender: Any = None, headers: Any = None, routing_key: Any = None, **kwargs: Any
) -> None:
    try:
        if not runs.enabled() or not isinstance(headers, dict) or not headers.get("id"):
            return
        if headers.get("retries"):  # a retry's message: the worker recorded it
            return
        runs.queued(
            str(headers["id"]), name_of(headers.get("task") or sender), str(routing_key or "")
        )
    except Exception:
        logger.debug("perfsuite task runs: publish not recorded", exc_info=True)


def on_prerun(
    sender: Any = None,
    task: Any = None,
    task_id: Any = None,
    args: Any = None,
    kwargs: Any = None,
    **extra: Any,
) -> None:
    task = task or sender
    try:
        request = task.request
        if _eager(request) or not runs.enabled():
            return
        at = runs.now()
        setattr(request, _START, at)
        published = epoch(header_of(request, PUBLISHED_HEADER))
        attempt = int(getattr(request, "retries", 0) or 0) + 1
        fields: dict[str, Any] = {
            "task_name": name_of(task),
            "queue": str((request.delivery_info or {}).get("routing_key") or ""),
            "worker": str(getattr(request, "hostname", "") or ""),
            "started_at": at,
            "last_attempted_at": at,
            "finished_at": None,
            "attempts": attempt,
        }
        if published is not None:
            fields["enqueued_at"] = datetime.fromtimestamp(published, UTC)
        if perf_settings.as_dict()["TASK_RUN_ARGUMENTS"] == "full":
            fields.update(_arguments(args, kwargs))
        runs.started(str(task_id or request.id), fields)
    except Exception:
        logger.debug("perfsuite task runs: start not recorded", exc_info=True)


def _duration(request: Any) -> tuple[datetime, float | None]:
    at = runs.now()
    began = getattr(request, _START, None)
    return at, (at - began).total_seconds() if began else None


def on_postrun(
    sender: Any = None,
    task: Any = None,
    task_id: Any = None,
    state: Any = None,
    retval: Any = None,
    **extra: Any,
) -> None:
    task = task or sender
    try:
        request = task.request
        if _eager(request) or not runs.enabled() or state not in ("SUCCESS", "RETRY"):
            return  # a failure was recorded by on_failure
        at, duration = _duration(request)
        fields: dict[str, Any] = {"state": state, "duration": duration}
        if state == "SUCCESS":
            fields["finished_at"] = at
        else:
            fields["error"] = runs.bounded(str(retval), runs.MAX_ERROR)
        runs.finished(str(task_id or request.id), fields, urgent=state == "RETRY")
    except Exception:
        logger.debug("perfsuite task runs: end not recorded", exc_info=True)


def on_failure(
    sender: Any = None,
    task_id: Any = None,
    exception: Any = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **extra: Any,
) -> None:
    from .reliable import DeadLettered

    task = sender
    try:
        request = task.request
        if _eager(request) or not runs.enabled():
            return
        at, duration = _duration(request)
        kind = type(exception)
        state = "DEAD" if isinstance(exception, DeadLettered) else "FAILURE"
        trace = str(getattr(einfo, "traceback", "") or "") or "".join(
            tb.format_exception(exception)
        )
        fields: dict[str, Any] = {
            "task_name": name_of(task),
            "state": state,
            "finished_at": at,
            "duration": duration,
            "exception_class_path": f"{kind.__module__}.{kind.__qualname__}",
            "error": runs.bounded(f"{kind.__name__}: {exception}", runs.MAX_ERROR),
            "traceback": runs.bounded(trace, runs.MAX_TRACEBACK),
        }
        if state in _ARGUMENTS_KEPT_FOR:  # a retry by hand sends them again
            fields.update(_arguments(args, kwargs))
        runs.finished(str(task_id or request.id), fields, urgent=True)
    except Exception:
        logger.debug("perfsuite task runs: failure not recorded", exc_info=True)


def on_process_shutdown(**kwargs: Any) -> None:
    try:
        runs.flush()
    except Exception:
        logger.warning("perfsuite could not write task runs at exit", exc_info=True)


def receivers() -> list[tuple[Any, Any]]:
    from celery import signals

    return [
        (signals.after_task_publish, on_published),
        (signals.task_prerun, on_prerun),
        (signals.task_postrun, on_postrun),
        (signals.task_failure, on_failure),
        (signals.worker_process_shutdown, on_process_shutdown),
        (signals.worker_shutdown, on_process_shutdown),
    ]
