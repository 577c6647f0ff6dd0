"""Checks of static_opt (ids ``perfsuite.E6xx``/``W6xx``, documented in docs/checks.md).

- ``E601``: ``DEBUG`` is off, the middleware is installed and ``STATIC_ROOT`` is not set.
- ``W601``: the app is installed but ``StaticFilesMiddleware`` is not in ``MIDDLEWARE``.
- ``W602``: something heavy sits above the middleware (it should come right after
  ``SecurityMiddleware``, so static requests skip sessions, auth, CSRF ...).
- ``W603``: ``DEBUG`` is off and ``STATIC_ROOT`` holds no collected files.
- ``W604``: ``STATIC_ENCODINGS`` asks for brotli/zstd but the library is missing.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from perfsuite.core.checks import middleware, position
from perfsuite.core.conf import perf_settings

from .engine.compress import missing_libraries

MIDDLEWARE = "perfsuite.static_opt.middleware.StaticFilesMiddleware"
#: What may sit above the middleware: cheap and wanted on static responses too.
ALLOWED_ABOVE = (
    "django.middleware.security.SecurityMiddleware",
    "perfsuite.perf_monitor.middleware.PerformanceMiddleware",
    "corsheaders.middleware.CorsMiddleware",
)


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    stack = middleware()
    where = position(MIDDLEWARE, stack)
    if where is None:
        return [
            Warning(
                "perfsuite.static_opt is installed but StaticFilesMiddleware is not in "
                "MIDDLEWARE, so static files are not served by it.",
                hint=f"Add {MIDDLEWARE!r} right after SecurityMiddleware.",
                id="perfsuite.W601",
            )
        ]
    above = [m for m in stack[:where] if m not in ALLOWED_ABOVE]
    if above:
        return [
            Warning(
                "StaticFilesMiddleware has middleware above it that every static request "
                f"pays for: {', '.join(above)}.",
                hint="Move it right after SecurityMiddleware (and PerformanceMiddleware).",
                id="perfsuite.W602",
            )
        ]
    return []


def check_static_root(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or MIDDLEWARE not in middleware():
        return []
    root = getattr(settings, "STATIC_ROOT", None)
    if not root:
        return [
            Error(
                "STATIC_ROOT is not set and DEBUG is off: StaticFilesMiddleware has no "
                "files to serve.",
                hint="Set STATIC_ROOT and run `manage.py collectstatic`.",
                id="perfsuite.E601",
            )
        ]
    try:
        empty = not any(os.scandir(root))
    except OSError:
        empty = True
    if empty:
        return [
            Warning(
                f"STATIC_ROOT ({root}) has no collected files.",
                hint="Run `manage.py collectstatic --noinput` before starting the server.",
                id="perfsuite.W603",
            )
        ]
    return []


def check_libraries(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        encodings = list(perf_settings.STATIC_ENCODINGS)
    except Exception:
        return []
    missing = missing_libraries(encodings)
    if not missing:
        return []
    return [
        Warning(
            f"STATIC_ENCODINGS asks for codings whose libraries are missing: {', '.join(missing)}; "
            "those variants are not produced.",
            hint='pip install "django-perfsuite[static]"',
            id="perfsuite.W604",
        )
    ]


#: registered by StaticOptConfig.ready()
CHECKS = (check_middleware, check_static_root, check_libraries)
