"""The "Database queries" panel of the performance dashboard, and the figures it shows."""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .detection import recent_findings
from .metrics import FINDINGS, QUERIES, QUERY_SECONDS, SITES, UNUSED_EAGER


class QueryPanel(Panel):
    id = "query_opt"
    title = "Database queries"
    template_name = "perfsuite/query_opt/panel.html"
    order = 20

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Queries per request by route (all workers), N+1 findings and unused eager
        loads per route, the latest findings."""
        return figures(snapshot)


def figures(snapshot: Snapshot) -> dict[str, Any]:
    mapping = snapshot.mapping
    findings = _per_route(snapshot, FINDINGS.name)
    unused = _per_route(snapshot, UNUSED_EAGER.name)
    routes: list[dict[str, Any]] = []
    total_queries = 0.0
    total_requests = 0
    for key, hist in snapshot.histograms.items():
        if key.name != QUERIES.name:
            continue
        route = key.label_dict["route"]
        seconds = snapshot.histogram(QUERY_SECONDS.name, route=route)
        total_queries += hist.sum
        total_requests += hist.count
        routes.append(
            {
                "route": route,
                "requests": hist.count,
                "queries_mean": hist.mean,
                "queries_p95": hist.quantile(0.95, mapping),
                "queries_max": hist.max if hist.count else None,
                "db_ms_p95": (seconds.quantile(0.95, mapping) or 0) * 1000,
                "n_plus_one": int(findings.get(route, 0)),
                "unused_eager": int(unused.get(route, 0)),
            }
        )
    routes.sort(key=_rank)
    return {
        "requests": total_requests,
        "queries": int(total_queries),
        "queries_per_request": total_queries / total_requests if total_requests else None,
        "n_plus_one": int(sum(findings.values())),
        "unused_eager": int(sum(unused.values())),
        "routes": routes[:50],
        "recent": recent_findings()[:10],
        "sites": _sites(snapshot),
    }


def _sites(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Where the findings of the window come from, over every worker: kind, route,
    caller line, relation and count, most frequent first."""
    rows: list[dict[str, Any]] = [
        {**series.labels, "count": int(series.value or 0)}
        for series in snapshot.series(SITES.name)
        if series.value
    ]
    rows.sort(key=lambda row: (-row["count"], row["route"], row["caller"]))
    return rows[:20]


def _per_route(snapshot: Snapshot, name: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for series in snapshot.series(name):
        route = series.labels["route"]
        counts[route] = counts.get(route, 0) + (series.value or 0)
    return counts


def _rank(row: dict[str, Any]) -> tuple[int, float, str]:
    """Routes with findings first, then the most queries per request."""
    found = int(row["n_plus_one"]) + int(row["unused_eager"])
    return (-found, -float(row["queries_mean"] or 0), str(row["route"]))
