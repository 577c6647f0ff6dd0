"""The run history (:class:`.models.TaskRun`): every run of every worker and host, in
the database, off the task's path.

Each process keeps what it saw of a run (queued, started, finished) in a bounded
buffer, merged per task id, and writes it in one transaction every
``TASK_RUN_FLUSH_INTERVAL`` seconds from a daemon thread (started on the first record,
again after a fork), at a worker process's exit, and at once after a failure, a retry
or a dead letter (rare, and the order of attempts matters then). Each row is an upsert
of absolute values (attempt number, times, state), so batches from several processes
compose in any order. A database that cannot be reached costs a warning (once a
minute), never a task: the buffer stays bounded and the oldest runs beyond it are
dropped and counted.

What is written before the body runs, synchronously: the count of a redelivery
(:func:`count_redelivery`), which decides a dead letter (``TASK_MAX_REDELIVERIES``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, connections, router, transaction
from django.db.models import F

from perfsuite.core.conf import perf_settings
from perfsuite.core.logs import Throttled

from . import run_sql

logger = logging.getLogger("perfsuite.tasks")
_warnings = Throttled(logger, 60.0)

#: most task ids one process buffers while the database is unreachable
MAX_BUFFERED = 10_000
#: most workers remembered per run, and the longest texts kept
MAX_WORKERS = 20
MAX_ERROR = 2_000
MAX_TRACEBACK = 20_000
#: fields that only the first record of a run sets (an insert that ignores conflicts)
QUEUED_FIELDS = ("task_name", "queue", "enqueued_at", "state", "updated_at")


def enabled() -> bool:
    return bool(perf_settings.as_dict()["TASK_RUN_HISTORY"])


def now() -> datetime:
    return datetime.now(UTC)


class Recorder:
    """One process's buffer of run records and the thread that writes them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queued: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.updates: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.dropped = 0
        self.pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    # -- recording (cheap: a dict update under a lock) -----------------------------
    def add(self, task_id: str, fields: dict[str, Any], *, queued: bool = False) -> None:
        if not enabled():  # TASK_RUN_HISTORY off: nothing buffered, no thread
            return
        if os.getpid() != self.pid:  # forked: the parent's buffer is the parent's
            self.__init__()  # type: ignore[misc]
        target = self.queued if queued else self.updates
        with self.lock:
            found = target.get(task_id)
            if found is None:
                target[task_id] = dict(fields)
                while len(self.queued) + len(self.updates) > MAX_BUFFERED:
                    (self.queued or self.updates).popitem(last=False)
                    self.dropped += 1
            else:
                found.update(fields)
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self.lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="perfsuite-task-runs", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        from .retention import PURGE_EVERY, purge

        next_purge = time.monotonic() + PURGE_EVERY * random.random()  # spread out
        while True:
            interval = float(perf_settings.as_dict()["TASK_RUN_FLUSH_INTERVAL"])
            self._wake.wait(interval)
            self._wake.clear()
            try:  # the thread outlives any error: the next interval tries again
                self.flush()
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + PURGE_EVERY
                    purge()
                connections.close_all()  # this thread's connections: none left open
            except Exception as exc:
                _warnings.warning("perfsuite could not write or purge task runs: %s", exc)

    # -- writing -----------------------------------------------------------------
    def flush(self) -> bool:
        """Write what is buffered; False when the database refused (kept for later)."""
        from .models import TaskRun

        with self.lock:
            queued, self.queued = self.queued, OrderedDict()
            updates, self.updates = self.updates, OrderedDict()
        if not queued and not updates:
            return True
        alias = router.db_for_write(TaskRun)
        try:
            with transaction.atomic(using=alias):
                run_sql.write(alias, QUEUED_FIELDS, list(queued.items()), update=False)
                for names, group in _groups(updates).items():
                    run_sql.write(alias, names, group, update=True)
        except (DatabaseError, OSError) as exc:
            _warnings.warning("perfsuite could not write %d task runs: %s", len(updates), exc)
            with self.lock:  # back in front of anything newer, still bounded
                for task_id, kept in reversed(updates.items()):
                    self.updates[task_id] = {**kept, **self.updates.get(task_id, {})}
                    self.updates.move_to_end(task_id, last=False)
                for task_id, kept in queued.items():
                    self.queued.setdefault(task_id, kept)
            return False
        return True


def _groups(updates: dict[str, dict[str, Any]]) -> dict[tuple[str, ...], list[Any]]:
    """Rows by the set of fields they set (one upsert statement per set)."""
    groups: dict[tuple[str, ...], list[Any]] = {}
    for task_id, fields in updates.items():
        groups.setdefault(tuple(sorted(fields)), []).append((task_id, fields))
    return groups


recorder = Recorder()


def queued(task_id: str, task_name: str, queue: str) -> None:
    """A message was published (insert only: a row a worker wrote first wins)."""
    at = now()
    recorder.add(
        task_id,
        {
            "task_name": task_name,
            "queue": queue,
            "enqueued_at": at,
            "state": "QUEUED",
            "updated_at": at,
        },
        queued=True,
    )


def started(task_id: str, fields: dict[str, Any]) -> None:
    recorder.add(task_id, {**fields, "state": "STARTED", "updated_at": now()})


def finished(task_id: str, fields: dict[str, Any], *, urgent: bool = False) -> None:
    recorder.add(task_id, {**fields, "updated_at": now()})
    if urgent:
        recorder.flush()


def flush() -> bool:
    return recorder.flush()


def bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"… [{len(text) - limit} cut]"


def count_redelivery(task_id: str, task_name: str) -> int | None:
    """Count one more delivery of ``task_id`` after a lost attempt, in the database,
    before its body runs; returns the count (``None``: not counted, the database is
    unreachable: the run goes on)."""
    from .models import TaskRun

    alias = router.db_for_write(TaskRun)
    try:
        with transaction.atomic(using=alias):
            rows = TaskRun.objects.using(alias).filter(task_id=task_id)
            if not rows.update(redeliveries=F("redeliveries") + 1, updated_at=now()):
                # no row yet (its records were not written before the process died)
                TaskRun.objects.using(alias).bulk_create(
                    [TaskRun(task_id=task_id, task_name=task_name, updated_at=now())],
                    ignore_conflicts=True,
                )
                rows.update(redeliveries=F("redeliveries") + 1)
            return int(rows.values_list("redeliveries", flat=True).get())
    except (DatabaseError, OSError, TaskRun.DoesNotExist) as exc:
        _warnings.warning("perfsuite could not count a redelivery of %s: %s", task_id, exc)
        return None


def redelivered(request: Any) -> bool:
    """Whether the message of ``request`` is a redelivery (its earlier delivery was
    taken and not acknowledged: a lost process, a restored claim)."""
    info = getattr(request, "delivery_info", None) or {}
    headers = getattr(request, "headers", None) or {}
    return bool(info.get("redelivered") or headers.get("redelivered"))
