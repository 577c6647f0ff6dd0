"""The dashboard's one renderer: figures to text and HTML fragments, on the server.

The page is rendered from these fragments, and the script (``dashboard.js``)
polls ``fragments.json`` and swaps them in: numbers are formatted once, here,
and every value from the metrics goes through the template engine's escaping.
The script only polls, sorts rows (by their ``data-*`` values) and draws charts.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

logger = logging.getLogger("perfsuite.perf_monitor")

#: fragment name -> template (each fills one container of the page)
FRAGMENTS = {
    "status": "perfsuite/perf_monitor/_status.html",
    "cards": "perfsuite/perf_monitor/_cards.html",
    "routes": "perfsuite/perf_monitor/_routes.html",
    "slowest": "perfsuite/perf_monitor/_slowest.html",
    "panels": "perfsuite/perf_monitor/_panels.html",
    "metrics": "perfsuite/perf_monitor/_metrics.html",
    "counters": "perfsuite/perf_monitor/_counters.html",
}


def context(data: dict[str, Any]) -> dict[str, Any]:
    """What the page and its fragments show, formatted."""
    return {
        "data": data,
        "cards": _cards(data),
        "routes": _route_rows(data),
        "slowest": _slowest_rows(data),
        "panels": _panel_blocks(data),
        "metric_rows": _metric_rows(data),
        "counter_rows": _counter_rows(data),
        "updated": _clock_text(data.get("generated_at")),
    }


def fragments(request: HttpRequest, data: dict[str, Any]) -> dict[str, str]:
    """Every fragment of the page for ``data``, rendered."""
    ctx = context(data)
    return {name: render_to_string(t, ctx, request=request) for name, t in FRAGMENTS.items()}


def _seconds_text(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.1f} ms"


def _stat_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _number_text(value: float) -> str:
    """Four significant digits, like ``Number(v.toPrecision(4))`` in dashboard.js."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer():
        return str(int(value))
    rounded = float(f"{value:.4g}")
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def _template_exists(name: str | None) -> bool:
    if not name:
        return False
    try:
        get_template(name)
    except TemplateDoesNotExist:
        logger.warning("dashboard panel template %r not found; showing its raw stats", name)
        return False
    return True


def _cards(data: dict[str, Any]) -> list[dict[str, str]]:
    latency = data.get("latency") or {}
    error_rate = data.get("error_rate")
    throughput = data.get("throughput")
    memory = data.get("memory_usage")
    largest = data.get("memory_largest_process")
    cpu = data.get("cpu_usage")
    uptime = data.get("uptime_seconds")
    processes = data.get("resource_processes") or 0
    cores = data.get("cpu_cores")
    of = f"{processes} process{'es' if processes != 1 else ''}"

    def card(key: str, label: str, text: str, note: str = "") -> dict[str, str]:
        return {"key": key, "label": label, "text": text, "note": note}

    return [
        card("requests_processed", "Requests", _stat_text(data.get("requests_processed"))),
        card("throughput", "Throughput", _rate_text(throughput)),
        card(
            "error_rate", "Error rate", "–" if error_rate is None else f"{error_rate * 100:.2f} %"
        ),
        card("avg", "Average", _seconds_text(latency.get("avg", data.get("avg_response_time")))),
        card("p50", "p50", _seconds_text(latency.get("p50"))),
        card("p95", "p95", _seconds_text(latency.get("p95"))),
        card("p99", "p99", _seconds_text(latency.get("p99"))),
        card(
            "memory_usage",
            f"Memory, RSS summed over {of}",
            "–" if memory is None else f"{memory:.1f} MB",
            "" if largest is None else f"largest process {largest:.1f} MB",
        ),
        card(
            "cpu_usage",
            f"CPU summed over {of}",
            "–" if cpu is None else f"{cpu:.1f} %",
            "" if cores is None else f"100 % = one core; {cores} cores per machine",
        ),
        card("uptime_seconds", "Uptime", _duration_text(uptime)),
    ]


def _rate_text(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        text = f"{value:.0f}"
    elif value >= 1 or value == 0:
        text = f"{value:.2f}"
    else:
        text = _number_text(float(f"{value:.2g}"))
    return f"{text} req/s"


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _route_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for route, stats in (data.get("routes") or {}).items():
        error_rate = stats.get("error_rate")
        rows.append(
            {
                "route": route,
                "count": stats.get("count") or 0,
                "cells": [
                    ("p50", stats.get("p50"), _seconds_text(stats.get("p50"))),
                    ("p95", stats.get("p95"), _seconds_text(stats.get("p95"))),
                    ("p99", stats.get("p99"), _seconds_text(stats.get("p99"))),
                    ("max", stats.get("max"), _seconds_text(stats.get("max"))),
                    (
                        "error_rate",
                        error_rate,
                        "–" if error_rate is None else f"{error_rate * 100:.1f} %",
                    ),
                ],
            }
        )
    rows.sort(key=lambda row: (-row["count"], row["route"]))
    return rows


def _slowest_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "duration_text": _seconds_text(item.get("duration")),
            "at_text": _clock_text(item.get("at")),
        }
        for item in (data.get("slowest") or [])
    ]


def _clock_text(epoch: float | None) -> str:
    if epoch is None:
        return "–"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S UTC")


def _metric_rows(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    fields = ("count", "mean", "median", "p95", "p99", "max")
    return [
        (str(name), [_stat_text(stats.get(field)) for field in fields])
        for name, stats in sorted((data.get("metrics") or {}).items())
        if isinstance(stats, dict)
    ]


def _counter_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(name), _stat_text(value))
        for name, value in sorted((data.get("counters") or {}).items())
    ]


def _panel_blocks(data: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for panel in data.get("panels") or []:
        stats = panel.get("stats") or {}
        template = panel.get("template")
        blocks.append(
            {
                "id": panel.get("id", ""),
                "title": panel.get("title", ""),
                "template": template if _template_exists(template) else None,
                "stats": stats,
                "rows": [(str(key), _stat_text(value)) for key, value in stats.items()]
                if isinstance(stats, dict)
                else [],
            }
        )
    return blocks
