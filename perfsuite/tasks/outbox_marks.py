"""What one process's after-commit sends did to their outbox rows, written in batches.

An enqueue with ``TASK_OUTBOX`` writes its row in the caller's transaction and sends
the message after the commit. Marking the row sent there would take a second
transaction, and a second commit (a file sync on SQLite, a WAL flush on PostgreSQL)
on every enqueue: that doubled an enqueue's time. So the mark, and the note that a
row was left to the relay (the breaker open), wait here and are written together
every :data:`INTERVAL` seconds from a daemon thread, by the relay of this process
before it reads, and at exit.

A process killed before its marks are written leaves its sent rows unmarked: the
relay sends them again after :data:`.outbox.GRACE`, with the same task id, and
``ReliableTask`` runs a task id's effect once; the same as a relay killed between a
send and its mark. What waits here is bounded (:data:`MAX_PENDING`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from perfsuite.core.logs import Throttled

logger = logging.getLogger("perfsuite.tasks")
_warnings = Throttled(logger, 60.0)
#: seconds between two writes of the marks
INTERVAL = 0.5
#: most marks one process keeps while the database is unreachable (the oldest go:
#: their rows are sent again by the relay, deduplicated by task id)
MAX_PENDING = 10_000
CHUNK = 500


class Marks:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, None] = {}
        self.left: dict[str, str] = {}  # task id -> why it was left to the relay
        self.pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add_sent(self, task_id: str) -> None:
        self._add(self.sent, task_id, None)

    def add_left(self, task_id: str, reason: str) -> None:
        self._add(self.left, task_id, reason[:1000])

    def _add(self, target: dict[str, Any], task_id: str, value: Any) -> None:
        if os.getpid() != self.pid:  # forked: the parent's marks are the parent's
            self.__init__()  # type: ignore[misc]
        with self.lock:
            target[task_id] = value
            while len(self.sent) + len(self.left) > MAX_PENDING:
                oldest = self.left or self.sent
                oldest.pop(next(iter(oldest)))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="perfsuite-outbox-marks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(INTERVAL)
            self._wake.clear()
            try:  # the thread outlives any error: the next interval tries again
                if self.flush():
                    connections.close_all()  # this thread's connections: none left open
            except Exception as exc:
                _warnings.warning("perfsuite could not mark outbox rows: %s", exc)

    def forget(self) -> None:
        """Drop what is pending (tests: their rows are gone with their database)."""
        with self.lock:
            self.sent, self.left = {}, {}

    def flush(self) -> bool:
        """Write the pending marks (kept for the next try if the database refuses);
        False when there was nothing to write."""
        from .models import OutboxTask

        if os.getpid() != self.pid:
            return False
        with self.lock:
            sent, self.sent = self.sent, {}
            left, self.left = self.left, {}
        if not sent and not left:
            return False
        try:
            with transaction.atomic(using=_alias()):
                rows = OutboxTask.objects.using(_alias()).filter(sent_at=None)
                ids = list(sent)
                for start in range(0, len(ids), CHUNK):
                    rows.filter(task_id__in=ids[start : start + CHUNK]).update(
                        sent_at=timezone.now(), attempts=F("attempts") + 1
                    )
                for task_id, reason in left.items():
                    rows.filter(task_id=task_id).update(
                        attempts=F("attempts") + 1, last_error=reason
                    )
        except Exception:
            with self.lock:  # put back, older first; the bound applies at the next add
                self.sent = {**sent, **self.sent}
                self.left = {**left, **self.left}
            raise
        return True


def _alias() -> str:
    from django.db import router

    from .models import OutboxTask

    return router.db_for_write(OutboxTask)


marks = Marks()


def _flush_at_exit() -> None:
    try:
        marks.flush()
    except Exception as exc:
        logger.warning("perfsuite could not mark outbox rows at exit: %s", exc)


atexit.register(_flush_at_exit)
