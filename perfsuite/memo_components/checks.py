"""System checks of memo_components (ids ``perfsuite.W2xx``/``E2xx``; 201-209 the render
cache, 210-219 virtual lists, 220-229 lazy components). Documented in docs/checks.md."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from perfsuite.core.conf import perf_settings

from .lazy_checks import LAZY_CHECKS
from .virtual_checks import VIRTUAL_CHECKS


def check_cache_alias(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E201: ``COMPONENT_CACHE_ALIAS`` names no ``CACHES`` alias."""
    alias = perf_settings.COMPONENT_CACHE_ALIAS
    if alias is None or alias in getattr(settings, "CACHES", {}):
        return []
    return [
        Error(
            f"PERFSUITE['COMPONENT_CACHE_ALIAS'] is {alias!r}, which is not an alias of CACHES.",
            hint="Name an existing CACHES alias, or None to keep renders per process. Until "
            "it is fixed renders are kept per process only.",
            id="perfsuite.E201",
        )
    ]


def check_shared_invalidation(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W202: several processes (the Redis metrics store) but no shared alias."""
    conf = perf_settings.as_dict()
    if conf["STORE"] != "redis" or conf["COMPONENT_CACHE_ALIAS"] is not None:
        return []
    return [
        Warning(
            "The metrics store is Redis (several processes) but "
            "PERFSUITE['COMPONENT_CACHE_ALIAS'] is None: saving an instance drops its "
            "memoized renders only in the process that saved it.",
            hint="Set COMPONENT_CACHE_ALIAS to a CACHES alias every process shares (the "
            "django-redis one), or give the models an updated_at/version field.",
            id="perfsuite.W202",
        )
    ]


CHECKS: tuple[Any, ...] = (check_cache_alias, check_shared_invalidation)
CHECKS += LAZY_CHECKS  # W220, W221 (lazy_checks.py)
CHECKS += VIRTUAL_CHECKS  # W210, W211, W212 (virtual_checks.py)
