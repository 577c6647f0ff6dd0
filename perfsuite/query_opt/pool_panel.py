"""The "Connection pool" panel of the performance dashboard, and the figures it shows.

Every figure is summed over the worker processes that reported (with the Redis
store: every process of every machine): gauges are per process and the store keeps
those of live processes; counters are totals over the dashboard's window.
"""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .metrics import POOL_COUNTERS, POOL_GAUGES
from .pool import pooled_aliases


class PoolPanel(Panel):
    id = "query_opt_pool"
    title = "Connection pool"
    template_name = "perfsuite/query_opt/pool_panel.html"
    order = 21

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Per alias: size, idle, waiting (now, all processes), requests, waits, errors."""
        return figures(snapshot)


def figures(snapshot: Snapshot) -> dict[str, Any]:
    aliases = sorted(_aliases(snapshot))
    rows = [_alias_row(snapshot, alias) for alias in aliases]
    processes = {p for row in rows for p in row["per_process"]}
    return {
        "configured": pooled_aliases(),
        "aliases": rows,
        "processes": len(processes),
    }


def _aliases(snapshot: Snapshot) -> set[str]:
    names = {m.name for m in POOL_GAUGES.values()} | {m.name for m in POOL_COUNTERS.values()}
    found = set()
    for key in (*snapshot.gauges, *snapshot.counters):
        if key.name in names:
            found.add(key.label_dict.get("alias", ""))
    return found


def _alias_row(snapshot: Snapshot, alias: str) -> dict[str, Any]:
    row: dict[str, Any] = {"alias": alias}
    per_process: dict[str, dict[str, float]] = {}
    for key, gauge in POOL_GAUGES.items():
        by_process = snapshot.gauge_by_process(gauge.name, alias=alias)
        row[key] = int(sum(by_process.values())) if by_process else None
        for process, value in by_process.items():
            per_process.setdefault(process, {})[key] = value
    row["available"] = row["idle_size"]
    row["in_use"] = (
        row["size"] - row["idle_size"]
        if row["size"] is not None and row["idle_size"] is not None
        else None
    )
    for key, counter in POOL_COUNTERS.items():
        total = snapshot.counter_total(counter.name, alias=alias)
        row[key] = total * 1000 if key.endswith("_ms") else int(total)
    requests, connections = row["requests"], row["connections"]
    row["wait_ms_mean"] = row["wait_ms"] / requests if requests else None
    row["connect_ms_mean"] = row["connect_ms"] / connections if connections else None
    row["processes"] = len(per_process)
    row["per_process"] = {
        process: {k: int(v) for k, v in values.items()}
        for process, values in sorted(per_process.items())
    }
    return row
