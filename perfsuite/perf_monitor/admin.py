"""The performance dashboard in Django admin.

Follows django-rq: :class:`~perfsuite.perf_monitor.models.PerformanceDashboard`
is an unmanaged model with one permission, its ``changelist_view`` renders the
dashboard and ``get_urls()`` adds the JSON feed the page polls::

    /admin/perfsuite_perf_monitor/performancedashboard/            the page
    /admin/perfsuite_perf_monitor/performancedashboard/data.json   the feed

For the shorter ``/admin/performance/`` add :func:`admin_urls` *before* the
admin site in the project's URLconf::

    from perfsuite.perf_monitor.admin import admin_urls as perf_admin_urls

    urlpatterns = [
        path("admin/", include(perf_admin_urls())),
        path("admin/", admin.site.urls),
        ...
    ]

Who may look: active staff with ``perfsuite_perf_monitor.view_dashboard``
(superusers have it). Anonymous visitors are sent to the admin login; a signed-in
user without staff status or the permission gets 403, on the page and the feed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import update_wrapper, wraps
from typing import Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.views.decorators.cache import never_cache

from perfsuite.core.stores.base import WINDOWS

from . import dashboard
from .models import PerformanceDashboard
from .views import can_view

logger = logging.getLogger("perfsuite.perf_monitor")

DEFAULT_WINDOW = "5m"
DATA_URL_NAME = "perfsuite_perf_monitor_data"
PAGE_URL_NAME = "perfsuite_perf_monitor_performance"
SHORT_DATA_URL_NAME = "perfsuite_perf_monitor_performance_data"
TEMPLATE = "perfsuite/perf_monitor/dashboard.html"

View = Callable[..., HttpResponse]


def dashboard_permission_required(view: View) -> View:
    """403 for a signed-in user who may not see the dashboard.

    Wrap it around ``admin_site.admin_view(...)``: anonymous requests pass
    through, so ``admin_view`` redirects them to the admin login; a signed-in
    user without staff status, which ``admin_view`` would also send to the
    login form, gets 403 instead.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not can_view(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


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


class PerformanceDashboardAdmin(admin.ModelAdmin):
    """The dashboard page (as the changelist) and its JSON feed."""

    # -- permissions: view only ------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_view(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_view(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # -- URLs --------------------------------------------------------------
    def protect(self, view: View) -> View:
        """``view`` behind the admin login, ``never_cache`` and the dashboard permission."""
        inner = dashboard_permission_required(self.admin_site.admin_view(never_cache(view)))

        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return inner(request, *args, **kwargs)

        wrapper.model_admin = self  # type: ignore[attr-defined]
        return update_wrapper(wrapper, view)

    def get_urls(self) -> list[URLPattern]:
        changelist = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        # The model has no table: no add/change/delete/history pages.
        return [
            path("", self.protect(self.changelist_view), name=changelist),
            path("data.json", self.protect(self.data_view), name=DATA_URL_NAME),
        ]

    # -- views -------------------------------------------------------------
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self.dashboard_view(request, data_url_name=DATA_URL_NAME, extra=extra_context)

    def dashboard_view(
        self,
        request: HttpRequest,
        *,
        data_url_name: str,
        extra: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window", DEFAULT_WINDOW)
        if window not in WINDOWS:
            window = DEFAULT_WINDOW
        try:
            data = dashboard.dashboard_data(window)
        except Exception as exc:  # the page renders even when the store is down
            logger.warning("performance dashboard: metrics store failed: %s", exc)
            data = {"window": window, "windows": list(WINDOWS), "error": str(exc)}
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": self.opts.verbose_name_plural,
            "subtitle": None,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": True,
            "data": data,
            "window": data.get("window", window),
            "windows": data.get("windows") or list(WINDOWS),
            "data_url": _sibling_url(request, data_url_name),
            "cards": _cards(data),
            "routes": _route_rows(data),
            "slowest": _slowest_rows(data),
            "panels": _panel_blocks(data),
            "metric_rows": _metric_rows(data),
            "counter_rows": _counter_rows(data),
            **(extra or {}),
        }
        return TemplateResponse(request, TEMPLATE, context)

    def data_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = request.GET.get("window", DEFAULT_WINDOW)
        if window not in WINDOWS:
            return JsonResponse(
                {"error": f"unknown window {window!r}", "windows": list(WINDOWS)}, status=400
            )
        try:
            data = dashboard.dashboard_data(window)
        except ValueError as exc:
            return JsonResponse({"error": str(exc), "windows": list(WINDOWS)}, status=400)
        except Exception as exc:
            logger.warning("performance dashboard feed: metrics store failed: %s", exc)
            return JsonResponse({"error": f"metrics store unavailable: {exc}"}, status=503)
        return JsonResponse(data)


def _sibling_url(request: HttpRequest, name: str) -> str:
    """Reverse ``name`` in the namespace the current page was resolved in."""
    match = request.resolver_match
    namespace = match.namespace if match is not None else ""
    try:
        return reverse(f"{namespace}:{name}" if namespace else name)
    except NoReverseMatch:
        return "data.json"  # relative to the page, which ends with a slash


def _cards(data: dict[str, Any]) -> list[dict[str, str]]:
    latency = data.get("latency") or {}
    error_rate = data.get("error_rate")
    throughput = data.get("throughput")
    memory = data.get("memory_usage")
    cpu = data.get("cpu_usage")
    uptime = data.get("uptime_seconds")

    def card(key: str, label: str, text: str) -> dict[str, str]:
        return {"key": key, "label": label, "text": text}

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
        card("memory_usage", "Memory (RSS)", "–" if memory is None else f"{memory:.1f} MB"),
        card("cpu_usage", "CPU", "–" if cpu is None else f"{cpu:.1f} %"),
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


def admin_urls(site: AdminSite | None = None) -> list[URLPattern]:
    """``performance/`` and ``performance/data.json``, to include under the admin prefix.

    Include them before ``admin.site.urls``, whose catch-all would answer first.
    """
    site = site or admin.site

    def model_admin() -> PerformanceDashboardAdmin:
        found = site._registry.get(PerformanceDashboard)
        if not isinstance(found, PerformanceDashboardAdmin):
            found = PerformanceDashboardAdmin(PerformanceDashboard, site)
        return found

    def page(request: HttpRequest) -> HttpResponse:
        return model_admin().dashboard_view(request, data_url_name=SHORT_DATA_URL_NAME)

    def feed(request: HttpRequest) -> HttpResponse:
        return model_admin().data_view(request)

    def protect(view: View) -> View:
        return dashboard_permission_required(site.admin_view(never_cache(view)))

    return [
        path("performance/", protect(page), name=PAGE_URL_NAME),
        path("performance/data.json", protect(feed), name=SHORT_DATA_URL_NAME),
    ]


admin.site.register(PerformanceDashboard, PerformanceDashboardAdmin)
