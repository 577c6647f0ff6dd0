"""``ReliableTask``: the base of the suite's tasks (and of yours: ``@shared_task(
base=ReliableTask)``).

- Errors marked transient (:class:`TransientError`, connection errors, timeouts) are
  retried with exponential backoff and jitter, up to ``TASK_MAX_RETRIES``, never more
  than ``TASK_RETRY_BACKOFF_MAX`` apart; any other error fails the task at once.
- The body runs once per idempotency key (the caller's, else the task id): a message
  delivered again after its worker died, or submitted twice with one key, does its
  effect once (:mod:`.idempotency`). A delivery that finds another attempt running
  retries later.
"""

from __future__ import annotations

from typing import Any

from celery import Task

from perfsuite.core.conf import perf_settings

from .idempotency import Done, Running, _ttls, once

#: the message header carrying the caller's idempotency key
KEY_HEADER = "perfsuite_idempotency_key"


class TransientError(Exception):
    """A failure worth retrying (a remote service down, a lock held)."""


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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
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
