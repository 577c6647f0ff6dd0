"""The "Memory" panel of the performance dashboard, and the figures it shows.

One row per live process that reported its memory (with the sqlite or Redis store:
every worker of the machine or of every machine), from the per-process gauges
(``host:pid``): RSS, USS, the container's usage and limit, allocated blocks and
its last cleanup. Then one row per host (its workers' RSS summed, beside the
container's limit they share), and the counters over the window summed over
every process: checks, cleanups and skipped ones by reason, bytes freed, and
gunicorn recycles by reason (``perfsuite_memory_recycles``, read by name: zero
where nothing recycles). A recycled worker is gone, so recycles are totals only.
"""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from . import metrics

#: counted by the gunicorn hooks (perfsuite.memory.gunicorn), read by name
RECYCLES = "perfsuite_memory_recycles"
#: row key -> the per-process gauge it shows
GAUGES = {
    "rss_bytes": metrics.RSS.name,
    "uss_bytes": metrics.USS.name,
    "container_usage_bytes": metrics.CONTAINER_USAGE.name,
    "container_limit_bytes": metrics.CONTAINER_LIMIT.name,
    "allocated_blocks": metrics.ALLOCATED_BLOCKS.name,
    "last_cleanup_time": metrics.LAST_CLEANUP_TIME.name,
    "last_cleanup_freed_bytes": metrics.LAST_CLEANUP_FREED.name,
}
#: rows shown at most (the totals count every process)
MAX_ROWS = 200


class MemoryPanel(Panel):
    id = "memory"
    title = "Memory"
    template_name = "perfsuite/memory/panel.html"
    order = 60

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Per process: RSS, USS, container usage and limit, allocated blocks, last
        cleanup; per host; totals of checks, cleanups, freed bytes and recycles."""
        return figures(snapshot)


def figures(snapshot: Snapshot) -> dict[str, Any]:
    values = {key: snapshot.gauge_by_process(name) for key, name in GAUGES.items()}
    rows = [
        _row(process, values, snapshot.generated_at) for process in set().union(*values.values())
    ]
    rows.sort(key=lambda r: (-(r["rss_bytes"] or 0), r["process"]))
    return {
        "processes": rows[:MAX_ROWS],
        "hosts": _hosts(rows),
        "totals": {
            "processes": len(rows),
            "rss_bytes": sum(r["rss_bytes"] or 0 for r in rows),
            "uss_bytes": sum(r["uss_bytes"] or 0 for r in rows),
            "checks": int(snapshot.counter_total(metrics.CHECKS.name)),
            "cleanups": _by_reason(snapshot, metrics.CLEANUPS.name),
            "cleanups_skipped": _by_reason(snapshot, metrics.SKIPPED.name),
            "freed_bytes": int(snapshot.counter_total(metrics.FREED.name)),
            "recycles": _by_reason(snapshot, RECYCLES),
        },
    }


def _row(process: str, values: dict[str, dict[str, float]], now: float) -> dict[str, Any]:
    host, _, pid = process.rpartition(":")
    row: dict[str, Any] = {
        "process": process,
        "host": host,
        "pid": int(pid) if pid.isdigit() else None,
    }
    for key, by_process in values.items():
        value = by_process.get(process)
        row[key] = None if value is None else int(value)
    when = values["last_cleanup_time"].get(process)
    row["last_cleanup_time"] = when  # epoch seconds, as recorded
    row["last_cleanup_age_seconds"] = None if when is None else max(now - when, 0.0)
    return row


def _hosts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per host (a container's hostname is its own): its processes' RSS summed beside
    the limit they share (the lowest any of them read) and the highest usage read."""
    hosts: dict[str, dict[str, Any]] = {}
    for row in rows:
        host = hosts.get(row["host"])
        if host is None:
            host = hosts[row["host"]] = {"host": row["host"], "processes": 0, "rss_bytes": 0}
            host.update(container_usage_bytes=None, container_limit_bytes=None)
        host["processes"] += 1
        host["rss_bytes"] += row["rss_bytes"] or 0
        for key, pick in (("container_usage_bytes", max), ("container_limit_bytes", min)):
            if row[key] is not None:
                host[key] = row[key] if host[key] is None else pick(host[key], row[key])
    return sorted(hosts.values(), key=lambda h: h["host"])


def _by_reason(snapshot: Snapshot, name: str) -> dict[str, int]:
    """Reason -> the counter's total over the window (every process)."""
    out: dict[str, int] = {}
    for key, value in snapshot.counters.items():
        if key.name == name and value:
            reason = key.label_dict.get("reason", "")
            out[reason] = out.get(reason, 0) + int(value)
    return dict(sorted(out.items()))
