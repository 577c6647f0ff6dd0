"""The dashboard's data: one snapshot turned into the JSON the page and feed share."""

from __future__ import annotations

import logging
import time
from typing import Any

from perfsuite.core import panels
from perfsuite.core.metrics import registry
from perfsuite.core.stores import WINDOWS

from . import metrics
from .apm import apm

logger = logging.getLogger("perfsuite.perf_monitor")
MB = 1024 * 1024


def _route_table(snap: Any) -> dict[str, dict[str, Any]]:
    by_route: dict[str, list[Any]] = {}
    errors: dict[str, int] = {}
    for key, hist in snap.histograms.items():
        if key.name != metrics.REQUEST_SECONDS:
            continue
        labels = key.label_dict
        by_route.setdefault(labels["route"], []).append(hist)
        if labels["status"] == "5xx":
            errors[labels["route"]] = errors.get(labels["route"], 0) + hist.count
    table = {}
    for route, parts in sorted(by_route.items()):
        merged = parts[0].merged(parts)
        stats = merged.stats(snap.mapping)
        failed = errors.get(route, 0)
        table[route] = {
            "count": stats["count"],
            "mean": stats["mean"],
            "p50": stats["p50"],
            "p95": stats["p95"],
            "p99": stats["p99"],
            "max": stats["max"],
            "errors": failed,
            "error_rate": failed / stats["count"] if stats["count"] else 0.0,
        }
    return table


def _timeline(snap: Any) -> dict[str, list[Any]]:
    starts, requests, p95, memory = [], [], [], []
    for point in snap.points:
        starts.append(point.start)
        reqs = [h for k, h in point.histograms.items() if k.name == metrics.REQUEST_SECONDS]
        merged = reqs[0].merged(reqs) if reqs else None
        requests.append(merged.count if merged else 0)
        p95.append(merged.quantile(0.95, snap.mapping) if merged else None)
        rss = [h for k, h in point.histograms.items() if k.name == metrics.RSS_SAMPLES.name]
        # the largest single process in that minute, in MB
        memory.append(max(h.max for h in rss) / MB if rss else None)
    return {"start": starts, "requests": requests, "p95": p95, "memory": memory}


def _panels(snap: Any) -> list[dict[str, Any]]:
    out = []
    for panel in panels.get_panels():
        try:
            stats = panel.get_stats(snap)
        except Exception as exc:  # one broken panel must not break the page
            logger.warning("dashboard panel %s failed", panel.id, exc_info=True)
            stats = {"error": str(exc)}
        out.append(
            {"id": panel.id, "title": panel.title, "template": panel.template_name, "stats": stats}
        )
    return out


def covered_seconds(snap: Any, window: str) -> float:
    """The seconds of traffic a window's data can hold: whole minutes (or hours) up
    to now, never before the last reset. Steady traffic then reads steady."""
    now = snap.generated_at
    reset_at = snap.meta.get("reset_at")
    length = WINDOWS[window]
    if length is None:  # "all": since the last reset (or this process's start)
        start = reset_at or apm.start_time
    else:
        unit = 3600 if length > 3600 else 60
        start = (int(now // unit) - length // unit + 1) * unit
        if reset_at:
            start = max(start, reset_at)
    return max(1.0, now - start)


def dashboard_data(window: str = "5m", *, sample: bool = True) -> dict[str, Any]:
    """Everything the dashboard shows for ``window``; raises ValueError for a bad window.

    ``sample=False`` for readers that serve no requests (``perfstats``): they must
    not show up as a process of the site.
    """
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; choose one of {', '.join(WINDOWS)}")
    if sample:
        metrics.sampler.maybe_sample(time.time())
    snap = registry.snapshot(window, points=True)
    hist = snap.histogram(metrics.REQUEST_SECONDS)
    stats = hist.stats(snap.mapping)
    errors = snap.histogram(metrics.REQUEST_SECONDS, status="5xx").count
    rss = snap.gauge_values(metrics.RSS.name)
    cpu = snap.gauge_values(metrics.CPU.name)
    starts = snap.gauge_values(metrics.START_TIME.name)
    apm_data = apm.dashboard_from_snapshot(snap)
    return {
        "window": window,
        "windows": list(WINDOWS),
        "generated_at": snap.generated_at,
        "store": snap.meta.get("store"),
        "processes": snap.meta.get("processes"),
        "error": None,
        "requests_processed": hist.count,
        "total_response_time": hist.sum,
        "avg_response_time": stats["mean"] or 0.0,
        "throughput": hist.count / covered_seconds(snap, window),
        "error_rate": errors / hist.count if hist.count else 0.0,
        "latency": {k: stats[k] for k in ("mean", "p50", "p95", "p99", "max")}
        | {"avg": stats["mean"]},
        # the guide's keys: the sum over the processes that reported (MB, percent)
        "memory_usage": sum(rss) / MB if rss else None,
        "cpu_usage": sum(cpu) if cpu else None,
        "memory_largest_process": max(rss) / MB if rss else None,
        "resource_processes": len(rss),
        "cpu_cores": metrics.sampler.cores,
        "uptime_seconds": max(0.0, snap.generated_at - min(starts)) if starts else None,
        "routes": _route_table(snap),
        "slowest": metrics.slowest.recent(),
        "timeline": _timeline(snap),
        "counters": apm_data["counters"],
        "metrics": apm_data["metrics"],
        "panels": _panels(snap),
    }
