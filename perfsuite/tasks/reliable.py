"""``ReliableTask``: the base of the suite's tasks (and of yours: ``@shared_task(
base=ReliableTask)``).

- Errors marked transient (:class:`TransientError`, connection errors, timeouts) are
  retried with exponential backoff and jitter, up to ``TASK_MAX_RETRIES``, never more
  than ``TASK_RETRY_BACKOFF_MAX`` apart; any other error fails the task at once.
- The body runs once per idempotency key (the caller's, else the task id): a message
  delivered again after its worker died, or submitted twice with one key, does its
  effect once (:mod:`.idempotency`). A delivery that finds another attempt running
  retries later.
- A message delivered again after its attempt was lost (the process died: an OOM kill,
  a task that crashes its interpreter) is counted in the run history before the body
  runs; past ``TASK_MAX_REDELIVERIES`` the run is dead-lettered: it fails with
  :class:`DeadLettered` (acknowledged, shown on the Task runs page, retryable by hand)
  and the worker moves on.
"""

from __future__ import annotations

from typing import Any

from celery import Task

from perfsuite.core.conf import perf_settings

from . import runs
from .idempotency import Done, Running, _ttls, once

#: the message header carrying the caller's idempotency key
KEY_HEADER = "perfsuite_idempotency_key"


class TransientError(Exception):
    """A failure worth retrying (a remote service down, a lock held)."""


class DeadLettered(Exception):
    """The run was delivered too often after lost attempts: it is not run again."""


class ReliableTask(Task):
    abstract = True
    autoretry_for = (TransientError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_jitter = True
    #: run the body once per key (False: a task whose effect is idempotent by itself)
    idempotent = True

    @property
    def max_retries(self) -> int:
        return int(perf_settings.as_dict()["TASK_MAX_RETRIES"])

    @property
    def retry_backoff_max(self) -> int:
        return int(perf_settings.as_dict()["TASK_RETRY_BACKOFF_MAX"])

    def idempotency_key(self) -> str | None:
        request = self.request
        key = getattr(request, KEY_HEADER, None) or (request.headers or {}).get(KEY_HEADER)
        return f"{self.name}:{key or request.id}" if (key or request.id) else None

    def check_redelivery(self) -> None:
        """Count a redelivery; :class:`DeadLettered` past ``TASK_MAX_REDELIVERIES``."""
        request = self.request
        if request.is_eager or not request.id or not runs.redelivered(request):
            return
        count = runs.count_redelivery(str(request.id), str(self.name))
        if count is None:  # the history is unreachable: run it (fail open)
            return
        retries = int(request.retries or 0)
        runs.started(str(request.id), {"attempts": retries + 1 + count})
        limit = int(perf_settings.as_dict()["TASK_MAX_REDELIVERIES"])
        if count > limit:
            raise DeadLettered(
                f"{self.name} {request.id}: delivered again {count} times after its "
                f"attempt's process died (TASK_MAX_REDELIVERIES = {limit}); not run again"
            )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.check_redelivery()
        key = self.idempotency_key() if self.idempotent else None
        if key is None or self.request.is_eager:
            return super().__call__(*args, **kwargs)
        try:
            with once(key):
                return super().__call__(*args, **kwargs)
        except Done:
            return {"status": "duplicate", "key": key}
        except Running as exc:
            countdown, budget = self.running_retry(int(self.request.retries or 0))
            raise self.retry(exc=exc, countdown=countdown, max_retries=budget) from None

    @staticmethod
    def running_retry(retries: int) -> tuple[int, int]:
        """(countdown, max_retries) for a delivery that found another attempt running:
        enough tries to outwait that attempt's mark (the hard time limit and 30 s), so
        a task redelivered after its worker died runs once the mark has expired."""
        running_ttl = _ttls()[0]
        countdown = 10
        return countdown, retries + -(-running_ttl // countdown) + 1
