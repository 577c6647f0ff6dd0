"""Checks of the response cache (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from perfsuite.core.conf import perf_settings

MIDDLEWARE = "perfsuite.cache.middleware.ResponseCacheMiddleware"
MUST_PRECEDE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.locale.LocaleMiddleware",
)


@register(Tags.caches)
def check_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not apps.is_installed("perfsuite.cache"):
        return []
    errors: list[CheckMessage] = []
    alias = perf_settings.CACHE_ALIAS
    if alias not in getattr(settings, "CACHES", {}):
        errors.append(
            Error(
                f"PERFSUITE['CACHE_ALIAS'] is {alias!r}, which is not in CACHES.",
                hint="Name one of the aliases of the CACHES setting.",
                id="perfsuite.E501",
            )
        )
    excluded = perf_settings.CACHE_EXCLUDE_PATHS
    relative = [p for p in excluded if isinstance(p, str) and not p.startswith("/")]
    if relative:
        errors.append(
            Warning(
                f"PERFSUITE['CACHE_EXCLUDE_PATHS'] has {relative!r}, which excludes nothing: "
                "paths are matched from the leading slash.",
                hint="Write each prefix as a path, e.g. '/account/'.",
                id="perfsuite.W502",
            )
        )
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE in middleware:
        position = middleware.index(MIDDLEWARE)
        after = [m for m in MUST_PRECEDE if m in middleware and middleware.index(m) > position]
        before = [m for m in MUST_PRECEDE if m in middleware and middleware.index(m) < position]
        if after and before:
            # Either all of them (per-user caching) or none (anonymous-only, fastest).
            errors.append(
                Warning(
                    "ResponseCacheMiddleware sits between "
                    + ", ".join(m.rsplit(".", 1)[-1] for m in before)
                    + " and "
                    + ", ".join(m.rsplit(".", 1)[-1] for m in after)
                    + ".",
                    hint="Put it after SessionMiddleware, AuthenticationMiddleware and "
                    "LocaleMiddleware (per-user caching), or before all of them "
                    "(anonymous cookie-less requests only, the fastest hits).",
                    id="perfsuite.W501",
                )
            )
    return errors
