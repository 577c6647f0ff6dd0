"""Checks of perf_monitor (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

MIDDLEWARE = "perfsuite.perf_monitor.middleware.PerformanceMiddleware"


@register(Tags.compatibility)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not apps.is_installed("perfsuite.perf_monitor"):
        return []
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                "perfsuite.perf_monitor is installed but its PerformanceMiddleware is not "
                "in MIDDLEWARE.",
                hint=f"Add {MIDDLEWARE!r} near the top of MIDDLEWARE to time requests.",
                id="perfsuite.W101",
            )
        ]
    if middleware.index(MIDDLEWARE) > 1:
        return [
            Warning(
                "PerformanceMiddleware is not among the first two middleware; time spent in "
                "the middleware above it is not measured.",
                hint="Move it to the top of MIDDLEWARE (after SecurityMiddleware at most).",
                id="perfsuite.W102",
            )
        ]
    return []
