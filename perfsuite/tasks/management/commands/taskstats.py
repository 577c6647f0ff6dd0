"""``manage.py taskstats``: the Tasks panel's figures in the terminal (``--json``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from perfsuite.core.metrics import registry
from perfsuite.core.stores import WINDOWS
from perfsuite.tasks import inflight
from perfsuite.tasks.panels import figures


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Command(BaseCommand):
    help = "Show task statistics per task name (all workers with the Redis store)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--window", default="5m", help=f"one of {', '.join(WINDOWS)}")
        parser.add_argument("--json", action="store_true", help="print JSON instead")
        parser.add_argument(
            "--no-broker",
            action="store_true",
            help="do not read the queue depth from the broker (only what workers sampled)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        window = options["window"]
        if window not in WINDOWS:
            raise CommandError(f"--window must be one of {', '.join(WINDOWS)} (got {window!r})")
        try:
            snap = registry.snapshot(window)
        except Exception as exc:
            raise CommandError(f"cannot read the metrics store: {exc}") from exc
        data = figures(snap)
        data["window"] = window
        data["store"] = snap.meta.get("store")
        data["queue_depth_now"] = {} if options["no_broker"] else _live_depths()
        data["unacknowledged"], data["broker_error"] = (
            ([], "") if options["no_broker"] else inflight.unacknowledged()
        )
        try:
            data["stuck"] = [_stuck(s) for s in inflight.stuck_runs()]
        except DatabaseError:
            data["stuck"] = []
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        totals = data["totals"]
        depth = data["queue_depth_now"] or data["queue_depth"]
        queues = ", ".join(f"{q} {'?' if d is None else d}" for q, d in depth.items()) or "-"
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"window {window}: {totals['published']} published, {totals['started']} "
                f"started, {totals['succeeded']} succeeded, {totals['failed']} failed, "
                f"{totals['retried']} retried; waiting: {queues} ({data['store']} store)"
            )
        )
        self._inflight(data)
        rows = data["tasks"]
        if not rows:
            self.stdout.write("no tasks recorded in this window")
            return
        width = max(len("task"), *(len(r["task"]) for r in rows))
        names = ("published", "started", "succeeded", "failed", "retried")
        heads = (*names, "run p50", "run p95", "wait p95")
        header = f"{'task':<{width}}" + "".join(f" {h:>9}" for h in heads)
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            counts = "".join(f" {row[n]:>9}" for n in names)
            times = (row["runtime_p50_ms"], row["runtime_p95_ms"], row["queue_wait_p95_ms"])
            self.stdout.write(
                f"{row['task']:<{width}}{counts}" + "".join(f" {_ms(t):>9}" for t in times)
            )

    def _inflight(self, data: dict[str, Any]) -> None:
        unacked = data["unacknowledged"]
        if data["broker_error"]:
            self.stdout.write(self.style.WARNING(data["broker_error"]))
        if unacked:
            dead = sum(1 for m in unacked if m["owner_alive"] is False)
            self.stdout.write(
                f"unacknowledged: {len(unacked)} (oldest {unacked[0]['age_seconds']:.0f} s"
                + (f", {dead} of dead workers" if dead else "")
                + ")"
            )
            for m in unacked[:20]:
                again = m["redelivery_at"].isoformat() if m["redelivery_at"] else "-"
                self.stdout.write(
                    f"  {m['task']} {m['task_id']} taken by {m['worker'] or '?'} "
                    f"{m['age_seconds']:.0f} s ago; delivered again at {again}"
                )
        for s in data["stuck"]:
            self.stdout.write(
                self.style.WARNING(
                    f"stuck: {s['task']} {s['task_id']} on {s['worker'] or '?'} for "
                    f"{s['running_seconds']:.0f} s (threshold {s['threshold_seconds']:.0f} s)"
                )
            )


def _stuck(found: dict[str, Any]) -> dict[str, Any]:
    run = found["run"]
    return {
        "task": run.task_name,
        "task_id": run.task_id,
        "worker": run.worker,
        "running_seconds": found["running_seconds"],
        "threshold_seconds": found["threshold_seconds"],
    }


def _live_depths() -> dict[str, int | None]:
    """Read the queues of the project's Celery app now (``None``: unreadable)."""
    try:
        from celery import current_app

        from perfsuite.tasks.queues import queue_depths

        return queue_depths(current_app)
    except Exception:
        return {}
