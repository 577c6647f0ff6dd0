"""The outbox (``TASK_OUTBOX``): no task is lost while the broker is unreachable.

With it on, ``queue_task`` writes the task to the :class:`.models.OutboxTask` table in
the caller's transaction (a rollback writes nothing, a commit keeps it whatever the
broker does) and sends it after the commit, marking it sent a moment later in a
batch (:mod:`.outbox_marks`: no second commit per enqueue); a row the broker refused
stays for the relay, ``relay()`` (``manage.py task_relay``, or the ``relay_outbox``
task on a beat schedule), which sends waiting rows in order, each with its original
task id, and marks them sent. A row is marked after its message was accepted: if the
relay dies between the two, the next relay sends it again with the same task id, and
``ReliableTask`` runs a task id's effect once. Relays in several processes never
take the same row (``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it),
and leave a row that no send has tried yet to its own process for :data:`GRACE`
seconds (its after-commit send, its mark on the way).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from perfsuite.core.breaker import Breaker

from .outbox_marks import marks

logger = logging.getLogger("perfsuite.tasks")
BATCH = 100
#: seconds the relay leaves a row no send has tried yet to the process that wrote it
#: (sending it after its commit, the mark written within half a second)
GRACE = 5.0


#: after a broker failure, enqueues leave their rows to the relay for a while (1 s,
#: doubling up to 30 s) instead of each waiting for the broker again
breaker = Breaker("task broker (outbox)", base=1.0, cap=30.0)


def enqueue(
    task_name: str,
    kwargs: dict[str, Any],
    task_id: str,
    headers: dict[str, Any],
    countdown: float | None,
    using: str | None = None,
) -> Any:
    """Write the task's row in the caller's transaction and send its message right
    after the commit, unless the broker failed lately. Whatever goes wrong then stays
    here: the row is committed and the relay sends it, so the caller's enqueue
    succeeded (an error would make a user retry: the work twice); any failure opens
    the breaker. Returns the row."""
    from .models import OutboxTask
    from .processor import publish

    row = OutboxTask.objects.using(using).create(
        task_id=task_id, task_name=task_name, kwargs=kwargs, headers=headers, countdown=countdown
    )

    def send() -> None:
        if not breaker.allow():
            marks.add_left(task_id, "not tried: the broker failed lately (breaker open)")
            return
        try:
            publish(task_name, kwargs, task_id, headers, countdown)
        except Exception as exc:
            marks.add_left(task_id, _failed(task_id, exc))
            return
        breaker.success()
        marks.add_sent(task_id)

    transaction.on_commit(send, using=using)
    return row


def _failed(task_id: str, exc: Exception) -> str:
    """Open the breaker and log a failed send; the error text to keep on the row."""
    from .processor import BrokerUnavailable

    breaker.failure()
    if isinstance(exc, BrokerUnavailable):
        logger.warning("outbox: the broker is unreachable; %s waits", task_id)
    else:
        logger.exception("outbox: sending %s failed; it waits", task_id)
    return str(exc)[:1000] or repr(exc)


def relay(limit: int | None = None, grace: float = GRACE) -> int:
    """Send waiting rows; returns how many were sent. A row no send has tried yet is
    left to its own process for ``grace`` seconds. Stops at the first failure to send
    (the rows stay, with the error noted)."""
    from .models import OutboxTask
    from .processor import publish

    marks.flush()  # this process's sends first: their rows are not sent twice
    alias = router.db_for_write(OutboxTask)
    skip_locked = connections[alias].features.has_select_for_update_skip_locked
    sent = 0
    while limit is None or sent < limit:
        fresh = timezone.now() - timedelta(seconds=grace)
        with transaction.atomic(using=alias):
            rows = OutboxTask.objects.using(alias).filter(sent_at=None)
            rows = rows.filter(Q(attempts__gt=0) | Q(created_at__lte=fresh)).order_by("pk")
            rows = rows.select_for_update(skip_locked=skip_locked) if skip_locked else rows
            batch = list(rows[: BATCH if limit is None else min(BATCH, limit - sent)])
            if not batch:
                return sent
            for row in batch:
                try:
                    publish(row.task_name, row.kwargs, row.task_id, row.headers, row.countdown)
                except Exception as exc:
                    row.attempts += 1
                    row.last_error = _failed(row.task_id, exc)
                    row.save(update_fields=["attempts", "last_error"])
                    return sent
                breaker.success()
                row.sent_at = timezone.now()
                row.attempts += 1
                row.save(update_fields=["sent_at", "attempts"])
                sent += 1
    return sent


def waiting() -> int:
    from .models import OutboxTask

    marks.flush()
    return OutboxTask.objects.filter(sent_at=None).count()


@shared_task(name="perfsuite.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """The relay as a task, for a Celery beat schedule (:func:`beat_entry`)."""
    return relay()


def beat_entry(every: float = 10.0) -> dict[str, Any]:
    """``app.conf.beat_schedule = {"perfsuite-outbox": beat_entry(10)}``."""
    return {"task": "perfsuite.tasks.relay_outbox", "schedule": every}
