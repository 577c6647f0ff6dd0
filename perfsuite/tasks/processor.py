"""``BackgroundTaskProcessor``: the guide's API on Celery.

    from perfsuite.tasks.processor import task_processor

    task_id = task_processor.queue_task("send_email", {"to": "a@example.com", ...})
    task_id = await task_processor.aqueue_task("generate_report", {...})

- A task type is a name, a Celery task and a validator: an unknown type, or data the
  validator refuses, is a ``ValueError`` here, at enqueue, not a failure in a worker.
  Every instance knows the guide's four types (:mod:`.task_types`, loaded on first
  use); ``register`` adds more or replaces one.
- Data goes through JSON and must come back equal (ids, never model instances), and
  every string in it (keys too) must encode to UTF-8: no lone surrogates.
- Inside a transaction the message is sent when it commits (a rollback sends
  nothing); the caller gets the task id at once either way.
- A broker or result backend that cannot be reached is :class:`BrokerUnavailable`,
  after a bounded wait (about half a second); with ``TASK_OUTBOX`` the task is written
  to the outbox in the caller's transaction instead, and sent after the commit or
  later by the relay (:mod:`.outbox`).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from perfsuite.core.conf import perf_settings

from . import outbox
from .reliable import KEY_HEADER

Validator = Callable[[Mapping[str, Any]], Mapping[str, Any]]
#: how long an enqueue waits for an unreachable broker before BrokerUnavailable
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
#: and for its result backend: Celery's Redis backend subscribes to the task's result
#: channel before the task is published, retrying 20 times a second apart (19 s)
BACKEND_RETRY = {**PUBLISH_RETRY, "timeout": 1.0}


class BrokerUnavailable(Exception):
    """The broker (or its result backend) could not be reached: the task was not sent."""


@dataclass(frozen=True)
class TaskType:
    name: str
    task: Any  # a Celery task (or its name: resolved when sent)
    validate: Validator | None = None


def round_trip(data: Any) -> Any:
    """``data`` as JSON sends it; ``ValueError`` when it would not come back equal, or
    when a string in it (a key too) is not text UTF-8 can encode (a lone surrogate,
    which a worker would fail on)."""
    try:
        text = json.dumps(data, ensure_ascii=False)
        back = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"task data must be JSON (ids, not objects): {exc}") from None
    except RecursionError:
        raise ValueError("task data is nested too deep") from None
    if back != data:
        raise ValueError("task data must come back from JSON unchanged (no tuples, int keys)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        where = _not_utf8(data, "data") or "a string"
        raise ValueError(f"task data must be UTF-8 text: {where} holds a lone surrogate") from None
    return back


def _not_utf8(value: Any, path: str) -> str | None:
    """Where in ``value`` a string (or key) is that UTF-8 cannot encode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if _not_utf8(key, "") is not None:
                return f"a key of {path}"
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _not_utf8(item, f"{path}[{key!r}]")
        if found is not None:
            return found
    return None


class BackgroundTaskProcessor:
    """Task types by name. A new instance knows the guide's four (``send_email``,
    ``process_image``, ``generate_report``, ``cpu_intensive``: :mod:`.task_types`),
    loaded on first use, not at import or construction; ``register`` adds a type or
    replaces one (before or after they are loaded). ``guide_types=False``: none."""

    def __init__(self, *, guide_types: bool = True) -> None:
        self._types: dict[str, TaskType] = {}
        self._guide_pending = guide_types
        self._lock = threading.Lock()

    def register(self, name: str, task: Any, validate: Validator | None = None) -> None:
        self._types[name] = TaskType(name, task, validate)

    def _known(self) -> dict[str, TaskType]:
        if self._guide_pending:
            with self._lock:
                if self._guide_pending:
                    from .task_types import guide_types  # it imports the Celery tasks

                    for name, (task, validate) in guide_types().items():
                        self._types.setdefault(name, TaskType(name, task, validate))
                    self._guide_pending = False
        return self._types

    def task_types(self) -> list[str]:
        return sorted(self._known())

    def queue_task(
        self,
        task_type: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        countdown: float | None = None,
        using: str | None = None,
    ) -> str:
        """Send task ``task_type`` with ``data`` (after commit); returns its id."""
        spec = self._known().get(task_type)
        if spec is None:
            known = ", ".join(self.task_types()) or "none"
            raise ValueError(f"unknown task type {task_type!r} (known: {known})")
        if not isinstance(data, Mapping):
            raise ValueError(f"task data must be a dict, got {type(data).__name__}")
        checked = dict(spec.validate(data)) if spec.validate is not None else dict(data)
        payload = round_trip(checked)
        task_id = str(uuid.uuid4())
        headers = {KEY_HEADER: idempotency_key} if idempotency_key else {}

        if perf_settings.as_dict()["TASK_OUTBOX"]:
            outbox.enqueue(task_name(spec.task), payload, task_id, headers, countdown, using)
            return task_id

        def send() -> None:
            publish(spec.task, payload, task_id, headers, countdown)

        transaction.on_commit(send, using=using)  # at once outside a transaction
        return task_id

    async def aqueue_task(self, task_type: str, data: Mapping[str, Any], **kwargs: Any) -> str:
        return await sync_to_async(self.queue_task)(task_type, data, **kwargs)


def task_name(task: Any) -> str:
    return task if isinstance(task, str) else str(task.name)


def publish(
    task: Any,
    payload: dict[str, Any],
    task_id: str,
    headers: dict[str, Any],
    countdown: Any,
    eta: Any = None,
) -> None:
    """Send one message, or raise :class:`BrokerUnavailable` within about a second
    (two quick retries of the broker, two of the result backend's subscription)."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    if isinstance(task, str):
        task = current_app.tasks[task]
    app = getattr(task, "app", None)  # Celery sends with its app's backend
    backend = app.backend if app is not None else None
    unreachable = (
        OperationalError,
        ConnectionError,
        OSError,
        *getattr(backend, "connection_errors", ()),
    )
    try:
        with _bounded(backend):
            try:
                task.apply_async(
                    kwargs=payload,
                    task_id=task_id,
                    headers=headers,
                    countdown=countdown,
                    eta=eta,
                    retry=True,
                    retry_policy=PUBLISH_RETRY,
                )
            except BaseException:
                _unsubscribe(backend, task_id)
                raise
    except unreachable as exc:
        raise BrokerUnavailable(f"the task broker is unreachable: {exc}") from exc
    except RuntimeError as exc:
        # the result backend's "Retry limit exceeded while trying to reconnect"
        if not isinstance(exc.__cause__, unreachable):
            raise
        cause = exc.__cause__
        raise BrokerUnavailable(f"the task result backend is unreachable: {cause}") from exc


@contextmanager
def _bounded(backend: Any) -> Iterator[None]:
    """``backend``'s retries bounded by :data:`BACKEND_RETRY` while a message is sent.

    Its ``retry_policy`` (Celery's: 20 retries, 1 s apart; the ``retry_policy`` of
    ``result_backend_transport_options`` on Redis) also governs storing results in a
    worker, which may well wait: it is replaced on this backend instance for the
    duration of the send only. Celery gives each thread its own backend instance
    unless ``result_backend_thread_safe`` is set."""
    policy = getattr(backend, "retry_policy", None)
    if not isinstance(policy, dict):
        yield
        return
    own = backend.__dict__
    missing = object()
    saved = own.get("retry_policy", missing)
    own["retry_policy"] = {**policy, **BACKEND_RETRY}
    try:
        yield
    finally:
        if saved is missing:
            own.pop("retry_policy", None)
        else:
            own["retry_policy"] = saved


def _unsubscribe(backend: Any, task_id: str) -> None:
    """Forget the result subscription of a task that was not sent (else the backend
    keeps it and subscribes to it again on every reconnection)."""
    cancel = getattr(getattr(backend, "result_consumer", None), "cancel_for", None)
    if cancel is None:
        return
    try:
        cancel(task_id)
    except Exception:  # the backend is down: the subscription is gone with it
        pass


task_processor = BackgroundTaskProcessor()
