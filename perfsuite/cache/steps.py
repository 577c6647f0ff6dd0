"""The decisions of the response cache's request path, shared by its sync and async drivers.

Nothing here does I/O: :mod:`.engine` reads and writes the backend and calls these
functions between the reads and writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse

from perfsuite.core import timing
from perfsuite.core.conf import perf_settings
from perfsuite.core.headers import set_headers
from perfsuite.core.logs import Throttled

from . import keyparts, keys, metrics, policy
from .backend import BackendUnavailable, CacheBackend, backend_for
from .entries import Found, match, response_from
from .keys import PageKey, generation_key, tag_key
from .settings_memo import setting

if TYPE_CHECKING:
    from .engine import ResponseCache

logger = logging.getLogger("perfsuite.cache")

#: backend failures are logged once per CACHE_WARNING_INTERVAL, never per request
warnings = Throttled(logger, lambda: float(perf_settings.CACHE_WARNING_INTERVAL))


@dataclass(slots=True)
class Plan:
    """What one cacheable request will read and write, and the settings it uses."""

    engine: ResponseCache
    backend: CacheBackend
    key: PageKey
    refresh: bool
    conf: dict[str, Any]

    @property
    def lock_timeout(self) -> int:
        return int(self.conf["CACHE_LOCK_TIMEOUT"])

    @property
    def lock_wait(self) -> float:
        return float(self.conf["CACHE_LOCK_WAIT"])

    @property
    def ignored_cookies(self) -> tuple[str, ...]:
        return tuple(self.conf["CACHE_IGNORED_COOKIES"])


# -- 1. plan --------------------------------------------------------------------
def skip_reason(request: HttpRequest, conf: dict[str, Any], alias: str | None) -> str | None:
    """Why this request does not use the cache at all, or None."""
    if request.method not in ("GET", "HEAD"):
        return "method"
    path = request.path
    if any(path.startswith(prefix) for prefix in conf["CACHE_EXCLUDE_PATHS"]):
        return "excluded-path"
    if "HTTP_AUTHORIZATION" in request.META and not conf["CACHE_ALLOW_AUTHORIZATION"]:
        return "authorization"
    if (alias or conf["CACHE_ALIAS"]) not in setting("CACHES"):
        warnings.warning("PERFSUITE['CACHE_ALIAS'] is not in CACHES; serving uncached (E501)")
        return "misconfigured"
    return None


def refresh_requested(request: HttpRequest, conf: dict[str, Any], user: Callable[[], Any]) -> bool:
    """A ``Cache-Control: no-cache`` refresh from a client ``CACHE_TRUST_NO_CACHE`` trusts."""
    if not policy.request_no_cache(request):
        return False
    trust = conf["CACHE_TRUST_NO_CACHE"]
    if trust != "staff":
        return bool(trust == "all")
    who = user()
    return bool(setting("DEBUG") or (who is not None and who.is_staff))


def plan(
    engine: ResponseCache, request: HttpRequest, who: str, conf: dict[str, Any], refresh: bool
) -> Plan:
    backend = backend_for(engine.alias or conf["CACHE_ALIAS"])
    ignored = tuple(conf["CACHE_IGNORED_COOKIES"])
    # The language LocaleMiddleware chose for this request, else its cookie: never the
    # thread's last language (before LocaleMiddleware that is another request's).
    language = getattr(request, "LANGUAGE_CODE", None)
    if language is None and "HTTP_COOKIE" in request.META:
        language = request.COOKIES.get(setting("LANGUAGE_COOKIE_NAME"))
    key = keys.page_key(
        request,
        who,
        language=language or "",
        extra=keyparts.vary_values(request, engine.vary, ignored),
        static_tags=engine.tags,
        tracking=tuple(conf["CACHE_TRACKING_PARAMS"]),
    )
    return Plan(engine, backend, key, refresh, conf)


# -- 2. lookup ------------------------------------------------------------------
def find(
    plan: Plan, request: HttpRequest, values: dict[str, Any]
) -> tuple[Found | None, list[str]]:
    """The entry and variant in ``values`` (one ``get_many``), and tag keys still to read."""
    versions = {t: values[tag_key(t)] for t in plan.key.tags if tag_key(t) in values}
    entry, missing = match(values.get(plan.key.entry), values.get(generation_key()), versions)
    if entry is None:
        return None, []
    if missing:
        # Tags of this path this process had not seen: read them, remember them.
        keys.remember_tags(plan.key.path, tuple(missing))
        missing_keys = [tag_key(t) for t in missing if tag_key(t) not in values]
        if missing_keys:
            return None, missing_keys
        versions.update({t: values[tag_key(t)] for t in missing})
        entry, _ = match(entry, values.get(generation_key()), versions)
        if entry is None:
            return None, []
    variant = entry.variants.get(keyparts.vary_values(request, entry.vary, plan.ignored_cookies))
    return Found(entry, variant), []


def serve(found: Found, result: str, started: float) -> HttpResponse:
    variant = found.variant
    assert variant is not None
    response = response_from(variant, found.now)
    ttl = int(variant.fresh_until - found.now)
    if result == "hit":
        x_cache, status_value = "HIT", f"perfsuite; hit; ttl={ttl}"
    elif result == "stale":
        x_cache, status_value = "STALE", f"perfsuite; hit; fwd=stale; ttl={ttl}"
    else:
        x_cache, status_value = "HIT", f"perfsuite; fwd=uri-miss; collapsed; ttl={ttl}"
    label(response, x_cache, status_value)
    timing.add("cache", time.perf_counter() - started, result)
    timing.set_route(variant.route)  # no URL resolution ran: tell perf_monitor the route
    metrics.record_served(variant.route, result, len(variant.content))
    return response


# -- 4. render (storing: :mod:`.storing`) -----------------------------------------------
def rendered(response: Any) -> Any:
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response = response.render()
    return response


def label_miss(
    request: HttpRequest, response: Any, plan: Plan, found: Found | None, outcome: int | str
) -> Any:
    detail = f"stored; ttl={outcome}" if isinstance(outcome, int) else f"detail={outcome}"
    route = timing.route_of(request)
    if plan.refresh:
        metrics.record_lookup(route, "bypass")
        label(response, "BYPASS", f"perfsuite; fwd=request; {detail}")
        return response
    metrics.record_lookup(route, "miss")
    fwd = "uri-miss" if found is None else "vary-miss" if found.variant is None else "stale"
    label(response, "MISS", f"perfsuite; fwd={fwd}; {detail}")
    return response


# -- bypass and failure ------------------------------------------------------------
def bypass(request: HttpRequest, response: Any, reason: str) -> Any:
    metrics.record_lookup(timing.route_of(request), "bypass")
    label(response, "BYPASS", f"perfsuite; fwd=bypass; detail={reason}")
    return response


def fail_open(request: HttpRequest, response: Any, exc: Exception) -> Any:
    count_failure(exc)
    warnings.warning("response cache backend failed, serving uncached: %r", exc)
    return bypass(request, response, "backend-error")


def quietly(call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except Exception:
        pass  # a lock left behind expires by its timeout


async def aquietly(call: Callable[..., Awaitable[Any]], *args: Any) -> None:
    try:
        await call(*args)
    except Exception:
        pass


def label(response: Any, x_cache: str, cache_status: str) -> None:
    if response is None:
        return
    existing = response.headers.get("Cache-Status")
    status = f"{cache_status}, {existing}" if existing else cache_status
    set_headers(response, (("X-Cache", x_cache), ("Cache-Status", status)))


def count_failure(exc: Exception) -> None:
    metrics.record_backend_failure(skipped=isinstance(exc, BackendUnavailable))
