"""``manage.py task_runs_purge``: apply the run history's retention now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from perfsuite.tasks.retention import purge


class Command(BaseCommand):
    help = (
        "Delete task runs older than TASK_RUN_RETENTION and the oldest beyond "
        "TASK_RUN_MAX_ROWS (every recording process also does it every 10 minutes)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = purge()
        except DatabaseError as exc:
            raise CommandError(f"cannot purge the task runs: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"deleted {done['expired']} expired and {done['over_cap']} over the cap"
            )
        )
