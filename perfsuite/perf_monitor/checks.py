"""Checks of perf_monitor (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning

from perfsuite.core.checks import middleware, position

MIDDLEWARE = "perfsuite.perf_monitor.middleware.PerformanceMiddleware"


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    where = position(MIDDLEWARE, middleware())
    if where is None:
        return [
            Warning(
                "perfsuite.perf_monitor is installed but its PerformanceMiddleware is not "
                "in MIDDLEWARE.",
                hint=f"Add {MIDDLEWARE!r} near the top of MIDDLEWARE to time requests.",
                id="perfsuite.W101",
            )
        ]
    if where > 1:
        return [
            Warning(
                "PerformanceMiddleware is not among the first two middleware; time spent in "
                "the middleware above it is not measured.",
                hint="Move it to the top of MIDDLEWARE (after SecurityMiddleware at most).",
                id="perfsuite.W102",
            )
        ]
    return []


#: registered by PerfMonitorConfig.ready()
CHECKS = (check_middleware,)
