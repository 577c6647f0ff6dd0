"""The "Components" panel of the performance dashboard, and the figures it shows."""

from __future__ import annotations

from typing import Any

from perfsuite.core.panels import Panel
from perfsuite.core.stores.base import Snapshot

from .metrics import BYTES, ENTRIES, EVICTIONS, INVALIDATIONS, LAZY_LOADS, RENDERS


class ComponentsPanel(Panel):
    id = "memo_components"
    title = "Components"
    template_name = "perfsuite/memo_components/panel.html"
    order = 30

    def get_stats(self, snapshot: Snapshot) -> dict[str, Any]:
        """Memoized renders per component over every worker: hits (this process's LRU and
        the shared alias), misses, hit ratio, evictions, entries and bytes held now;
        invalidations; lazy loads and their failures."""
        return figures(snapshot)


def _sum(snapshot: Snapshot, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    sums: dict[tuple[str, ...], float] = {}
    for series in snapshot.series(name):
        key = tuple(series.labels[label] for label in labels)
        sums[key] = sums.get(key, 0.0) + (series.value or 0.0)
    return sums


def figures(snapshot: Snapshot) -> dict[str, Any]:
    renders = _sum(snapshot, RENDERS.name, "component", "result")
    evictions = _sum(snapshot, EVICTIONS.name, "component")
    entries = _sum(snapshot, ENTRIES.name, "component")
    size = _sum(snapshot, BYTES.name, "component")
    names = sorted({key[0] for key in renders} | {key[0] for key in entries})
    rows: list[dict[str, Any]] = []
    for name in names:
        hits = renders.get((name, "hit"), 0) + renders.get((name, "shared_hit"), 0)
        misses = renders.get((name, "miss"), 0)
        total = hits + misses
        rows.append(
            {
                "component": name,
                "hits": int(hits),
                "shared_hits": int(renders.get((name, "shared_hit"), 0)),
                "misses": int(misses),
                "hit_rate": hits / total if total else None,
                "evictions": int(evictions.get((name,), 0)),
                "entries": int(entries.get((name,), 0)),
                "bytes": int(size.get((name,), 0)),
            }
        )
    rows.sort(key=lambda row: (-(row["hits"] + row["misses"]), row["component"]))
    hits = sum(row["hits"] for row in rows)
    total = hits + sum(row["misses"] for row in rows)
    lazy = _sum(snapshot, LAZY_LOADS.name, "component", "result")
    return {
        "components": rows[:50],
        "hits": hits,
        "misses": total - hits,
        "hit_rate": hits / total if total else None,
        "invalidations": int(sum(_sum(snapshot, INVALIDATIONS.name, "model").values())),
        "lazy_loads": int(sum(v for k, v in lazy.items() if k[1] == "ok")),
        "lazy_failures": int(sum(v for k, v in lazy.items() if k[1] == "error")),
    }
