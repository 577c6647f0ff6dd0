"""Checks of the response cache (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from perfsuite.core.checks import middleware, position
from perfsuite.core.conf import perf_settings

MIDDLEWARE = "perfsuite.cache.middleware.ResponseCacheMiddleware"
MUST_PRECEDE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.locale.LocaleMiddleware",
)


def check_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
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
    stack = middleware()
    where = position(MIDDLEWARE, stack)
    if where is not None:
        placed = {m: position(m, stack) for m in MUST_PRECEDE}
        after = [m for m, at in placed.items() if at is not None and at > where]
        before = [m for m, at in placed.items() if at is not None and at < where]
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


#: registered by CacheConfig.ready()
CHECKS = (check_cache,)
