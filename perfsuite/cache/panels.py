"""The response cache's panel on the performance dashboard."""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .metrics import SERVED_FROM_CACHE


class CachePanel(Panel):
    id = "cache"
    title = "Response cache"
    template_name = "perfsuite/cache/panel.html"
    order = 30

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        results: dict[str, float] = {}
        routes: dict[str, dict[str, float]] = {}
        for series in snapshot.series("perfsuite_cache_requests"):
            labels = series.labels
            value = series.value or 0
            results[labels["result"]] = results.get(labels["result"], 0) + value
            row = routes.setdefault(labels["route"], {})
            row[labels["result"]] = row.get(labels["result"], 0) + value
        reasons: dict[str, float] = {}
        for series in snapshot.series("perfsuite_cache_not_stored"):
            reason = series.labels["reason"]
            reasons[reason] = reasons.get(reason, 0) + (series.value or 0)
        served = sum(results.get(r, 0) for r in SERVED_FROM_CACHE)
        lookups = served + results.get("miss", 0)
        table = []
        for route, row in sorted(routes.items()):
            route_served = sum(row.get(r, 0) for r in SERVED_FROM_CACHE)
            route_lookups = route_served + row.get("miss", 0)
            table.append(
                {
                    "route": route,
                    "hits": row.get("hit", 0),
                    "misses": row.get("miss", 0),
                    "stale": row.get("stale", 0),
                    "collapsed": row.get("collapsed", 0),
                    "bypass": row.get("bypass", 0),
                    "hit_ratio": route_served / route_lookups if route_lookups else None,
                }
            )
        return {
            "hit_ratio": served / lookups if lookups else None,
            "hits": results.get("hit", 0),
            "misses": results.get("miss", 0),
            "stale": results.get("stale", 0),
            "collapsed": results.get("collapsed", 0),
            "bypass": results.get("bypass", 0),
            "bytes_served": snapshot.counter_total("perfsuite_cache_bytes_served"),
            "backend_errors": snapshot.counter_total("perfsuite_cache_backend_errors"),
            "backend_skipped": snapshot.counter_total("perfsuite_cache_backend_skipped"),
            "invalidation_failures": snapshot.counter_total(
                "perfsuite_cache_invalidation_failures"
            ),
            "not_stored": dict(sorted(reasons.items())),
            "routes": table,
        }
