"""The "Tasks" panel of the performance dashboard, and the figures it shows.

Every figure is summed over every process that reported (with the Redis store:
every worker and publisher of every machine): counters over the window, runtime and
queue wait percentiles from the merged histograms, and the queue depth the workers
sampled last (the largest of their readings: they read the same queue).
"""

from __future__ import annotations

import time
from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .metrics import COUNTERS, QUEUE_DEPTH, QUEUE_WAIT, RUNTIME


class TasksPanel(Panel):
    id = "tasks"
    title = "Tasks"
    template_name = "perfsuite/tasks/panel.html"
    order = 40

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Per task name: published, started, succeeded, failed, retried, runtime p50/p95,
        queue wait p95; totals; queue depth per queue; what is in flight (unacknowledged
        messages, stuck runs: read at most every 10 s)."""
        return {**figures(snapshot), "inflight": inflight_summary()}


_summary: tuple[float, dict[str, Any]] | None = None
#: seconds the in-flight summary is reused (it reads the broker and the run history)
SUMMARY_TTL = 10.0


def inflight_summary() -> dict[str, Any]:
    """Unacknowledged messages (count, oldest age, of dead owners) and stuck runs."""
    global _summary
    now = time.monotonic()
    if _summary is not None and now - _summary[0] < SUMMARY_TTL:
        return _summary[1]
    from . import inflight

    unacked, error = inflight.unacknowledged()
    try:
        stuck = len(inflight.stuck_runs())
    except Exception:  # the run history's table is unreachable
        stuck = None
    summary = {
        "unacknowledged": len(unacked),
        "oldest_unacknowledged_seconds": max((m["age_seconds"] for m in unacked), default=None),
        "of_dead_workers": sum(1 for m in unacked if m["owner_alive"] is False),
        "stuck": stuck,
        "broker_error": error,
    }
    _summary = (now, summary)
    return summary


def figures(snapshot: Snapshot) -> dict[str, Any]:
    mapping = snapshot.mapping
    rows: dict[str, dict[str, Any]] = {}

    def row(task: str) -> dict[str, Any]:
        found = rows.get(task)
        if found is None:
            found = rows[task] = {"task": task, **dict.fromkeys(COUNTERS, 0)}
        return found

    for key, counter in COUNTERS.items():
        for series in snapshot.series(counter.name):
            row(series.labels.get("task", ""))[key] += int(series.value or 0)
    for metric, prefix in ((RUNTIME, "runtime"), (QUEUE_WAIT, "queue_wait")):
        for series_key, hist in snapshot.histograms.items():
            if series_key.name == metric.name and hist.count:
                target = row(series_key.label_dict.get("task", ""))
                target[f"{prefix}_p50_ms"] = _ms(hist.quantile(0.5, mapping))
                target[f"{prefix}_p95_ms"] = _ms(hist.quantile(0.95, mapping))
    for target in rows.values():
        for prefix in ("runtime", "queue_wait"):
            target.setdefault(f"{prefix}_p50_ms", None)
            target.setdefault(f"{prefix}_p95_ms", None)
    tasks = sorted(rows.values(), key=lambda r: (-r["published"] - r["started"], r["task"]))
    totals = {key: sum(r[key] for r in tasks) for key in COUNTERS}
    return {
        "totals": totals,
        "tasks": tasks[:100],
        "queue_depth": queue_depths(snapshot),
    }


def queue_depths(snapshot: Snapshot) -> dict[str, int]:
    depths: dict[str, int] = {}
    for key in snapshot.gauges:
        if key.name == QUEUE_DEPTH.name:
            queue = key.label_dict.get("queue", "")
            values = snapshot.gauge_values(QUEUE_DEPTH.name, queue=queue)
            if values:
                depths[queue] = int(max(values))
    return dict(sorted(depths.items()))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
