"""The performance dashboard in Django admin.

Follows django-rq: :class:`~perfsuite.perf_monitor.models.PerformanceDashboard`
is an unmanaged model with one permission, its ``changelist_view`` renders the
dashboard and ``get_urls()`` adds the feeds::

    /admin/perfsuite_perf_monitor/performancedashboard/                 the page
    /admin/perfsuite_perf_monitor/performancedashboard/data.json        the JSON feed
    /admin/perfsuite_perf_monitor/performancedashboard/fragments.json   what the page polls

For the shorter ``/admin/performance/`` (the same page and feeds) add
:func:`admin_urls` *before* the admin site in the project's URLconf::

    from perfsuite.perf_monitor.admin import admin_urls as perf_admin_urls

    urlpatterns = [
        path("admin/", include(perf_admin_urls())),
        path("admin/", admin.site.urls),
        ...
    ]

Who may look: :func:`perfsuite.perf_monitor.access.can_view`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse

from perfsuite.core.stores.base import WINDOWS

from . import dashboard, render
from .access import can_view, dashboard_view
from .models import PerformanceDashboard

logger = logging.getLogger("perfsuite.perf_monitor")

DEFAULT_WINDOW = "5m"
#: URL names: (data.json, fragments.json) of the changelist and of admin_urls()
FEEDS = ("perfsuite_perf_monitor_data", "perfsuite_perf_monitor_fragments")
SHORT_FEEDS = (
    "perfsuite_perf_monitor_performance_data",
    "perfsuite_perf_monitor_performance_fragments",
)
PAGE_URL_NAME = "perfsuite_perf_monitor_performance"
TEMPLATE = "perfsuite/perf_monitor/dashboard.html"


class PerformanceDashboardAdmin(admin.ModelAdmin):
    """The dashboard page (as the changelist) and its feeds; view only."""

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

    def get_urls(self) -> list[URLPattern]:
        changelist = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        site = self.admin_site
        # The model has no table: no add/change/delete/history pages.
        return [
            path("", dashboard_view(site, self.changelist_view), name=changelist),
            path("data.json", dashboard_view(site, self.data_view), name=FEEDS[0]),
            path("fragments.json", dashboard_view(site, self.fragments_view), name=FEEDS[1]),
        ]

    # -- views (reached only through access.dashboard_view) --------------------
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self.page(request, FEEDS)

    def page(self, request: HttpRequest, feeds: tuple[str, str]) -> HttpResponse:
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
            **render.context(data),
            "title": self.opts.verbose_name_plural,
            "subtitle": None,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": True,
            "window": data.get("window", window),
            "windows": data.get("windows") or list(WINDOWS),
            "data_url": _sibling_url(request, feeds[0], "data.json"),
            "fragments_url": _sibling_url(request, feeds[1], "fragments.json"),
        }
        return TemplateResponse(request, TEMPLATE, context)

    def data_view(self, request: HttpRequest) -> JsonResponse:
        data = _feed_data(request)
        return data if isinstance(data, JsonResponse) else JsonResponse(data)

    def fragments_view(self, request: HttpRequest) -> JsonResponse:
        """The page's fragments, rendered, and the figures the charts draw."""
        data = _feed_data(request)
        if isinstance(data, JsonResponse):
            return data
        return JsonResponse(
            {
                "window": data["window"],
                "generated_at": data["generated_at"],
                "error": data.get("error"),
                "timeline": data["timeline"],
                "html": render.fragments(request, data),
            }
        )


def _feed_data(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    window = request.GET.get("window", DEFAULT_WINDOW)
    if window not in WINDOWS:
        return JsonResponse(
            {"error": f"unknown window {window!r}", "windows": list(WINDOWS)}, status=400
        )
    try:
        return dashboard.dashboard_data(window)
    except Exception as exc:
        logger.warning("performance dashboard feed: metrics store failed: %s", exc)
        return JsonResponse({"error": f"metrics store unavailable: {exc}"}, status=503)


def _sibling_url(request: HttpRequest, name: str, fallback: str) -> str:
    """Reverse ``name`` in the namespace the current page was resolved in."""
    match = request.resolver_match
    namespace = match.namespace if match is not None else ""
    try:
        return reverse(f"{namespace}:{name}" if namespace else name)
    except NoReverseMatch:
        return fallback  # relative to the page, which ends with a slash


def admin_urls(site: AdminSite | None = None) -> list[URLPattern]:
    """``performance/`` and its feeds, to include under the admin prefix.

    Include them before ``admin.site.urls``, whose catch-all would answer first.
    """
    site = site or admin.site

    def model_admin() -> PerformanceDashboardAdmin:
        found = site._registry.get(PerformanceDashboard)
        if not isinstance(found, PerformanceDashboardAdmin):
            found = PerformanceDashboardAdmin(PerformanceDashboard, site)
        return found

    def page(request: HttpRequest) -> HttpResponse:
        return model_admin().page(request, SHORT_FEEDS)

    def data(request: HttpRequest) -> HttpResponse:
        return model_admin().data_view(request)

    def fragments(request: HttpRequest) -> HttpResponse:
        return model_admin().fragments_view(request)

    return [
        path("performance/", dashboard_view(site, page), name=PAGE_URL_NAME),
        path("performance/data.json", dashboard_view(site, data), name=SHORT_FEEDS[0]),
        path("performance/fragments.json", dashboard_view(site, fragments), name=SHORT_FEEDS[1]),
    ]


admin.site.register(PerformanceDashboard, PerformanceDashboardAdmin)
