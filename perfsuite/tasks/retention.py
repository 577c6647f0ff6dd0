"""How long the run history keeps runs: ``TASK_RUN_RETENTION`` seconds (by their
last update) and at most ``TASK_RUN_MAX_ROWS`` rows, the oldest going first.

:func:`purge` deletes in batches, each its own short transaction, so it never holds
a lock for long; every process that records runs calls it every ``PURGE_EVERY``
seconds from its writing thread, and ``manage.py task_runs_purge`` on demand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from perfsuite.core.conf import perf_settings

#: seconds between two automatic purges of one process
PURGE_EVERY = 600.0
BATCH = 1000


def _delete_batch(ids: list[int]) -> int:
    from .models import TaskRun

    with transaction.atomic():
        return int(TaskRun.objects.filter(pk__in=ids).delete()[0])


def purge(now: datetime | None = None) -> dict[str, int]:
    """Delete runs past the retention, then the oldest beyond the row cap."""
    from .models import TaskRun

    conf = perf_settings.as_dict()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=int(conf["TASK_RUN_RETENTION"]))
    expired = 0
    while True:
        ids = list(
            TaskRun.objects.filter(updated_at__lt=cutoff).values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        expired += _delete_batch(ids)
    over = 0
    cap = int(conf["TASK_RUN_MAX_ROWS"])
    while True:
        extra = TaskRun.objects.count() - cap
        if extra <= 0:
            break
        ids = list(
            TaskRun.objects.order_by("updated_at", "pk").values_list("pk", flat=True)[
                : min(extra, BATCH)
            ]
        )
        over += _delete_batch(ids)
    return {"expired": expired, "over_cap": over}
