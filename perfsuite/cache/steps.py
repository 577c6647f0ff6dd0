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

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers, set_response_etag

from perfsuite.core import timing

from . import keys, policy
from .backend import BackendUnavailable, CacheBackend, backend_for
from .entries import Entry, Found, Variant, match, response_from
from .keys import PageKey, generation_key, path_tag, tag_key
from .metrics import BYTES_SERVED, ERRORS, NOT_STORED, REQUESTS, SKIPPED

if TYPE_CHECKING:
    from .engine import ResponseCache

logger = logging.getLogger("perfsuite.cache")

#: headers never stored with a response
UNSTORED_HEADERS = frozenset(
    ("set-cookie", "x-cache", "cache-status", "age", "x-response-time", "server-timing")
)
_last_warning = [0.0]


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


@dataclass(slots=True)
class Prepared:
    """A response that may be stored, in the form it is stored in."""

    variant: Variant
    variant_key: tuple[str, ...]
    vary: tuple[str, ...]
    tags: tuple[str, ...]
    ttl: int
    stale: float

    @property
    def lifetime(self) -> int:
        return int(self.ttl + self.stale) + 1

    @property
    def version_keys(self) -> list[str]:
        return [generation_key(), *(tag_key(t) for t in self.tags)]


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
    if (alias or conf["CACHE_ALIAS"]) not in django_settings.CACHES:
        _warn("PERFSUITE['CACHE_ALIAS'] is not in CACHES; serving uncached (check E501)")
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
    return bool(django_settings.DEBUG or (who is not None and who.is_staff))


def plan(
    engine: ResponseCache, request: HttpRequest, who: str, conf: dict[str, Any], refresh: bool
) -> Plan:
    backend = backend_for(engine.alias or conf["CACHE_ALIAS"])
    ignored = tuple(conf["CACHE_IGNORED_COOKIES"])
    # The language LocaleMiddleware chose for this request, else its cookie: never the
    # thread's last language (before LocaleMiddleware that is another request's).
    language = getattr(request, "LANGUAGE_CODE", None) or request.COOKIES.get(
        django_settings.LANGUAGE_COOKIE_NAME, ""
    )
    key = keys.page_key(
        request,
        who,
        language=language,
        extra=policy.vary_values(request, engine.vary, ignored),
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
    variant = entry.variants.get(policy.vary_values(request, entry.vary, plan.ignored_cookies))
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
    REQUESTS.labels(variant.route, result).inc()
    BYTES_SERVED.labels(variant.route).inc(len(variant.content))
    return response


# -- 4. render and store ------------------------------------------------------------
def rendered(response: Any) -> Any:
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response = response.render()
    return response


def prepare(plan: Plan, request: HttpRequest, response: HttpResponseBase) -> Prepared | str:
    """The response as it would be stored, or the reason it may not be."""
    conf = plan.conf
    status_ttls = conf["CACHE_STATUS_TTLS"]
    reason = policy.uncacheable_reason(request, response, status_ttls)
    directives = policy.cache_control(response.headers.get("Cache-Control"))
    ttl = plan.engine.ttl if plan.engine.ttl is not None else getattr(response, "cache_ttl", None)
    if ttl is None:
        ttl = policy.ttl_for(directives, conf["CACHE_DEFAULT_TTL"], conf["CACHE_MAX_TTL"])
    if reason is None:
        cap = status_ttls.get(response.status_code)
        if cap is not None:
            ttl = min(ttl, cap)
        if ttl <= 0:
            reason = "ttl-zero"
    if reason is None and not isinstance(response, HttpResponse):
        reason = "unsupported"
    if reason is not None:
        return reason
    assert isinstance(response, HttpResponse)
    if not response.has_header("ETag"):
        set_response_etag(response)
    vary = policy.vary_headers(response)
    if policy.csrf_used(request):
        vary = (*vary, policy.CSRF_VARY)  # the token is valid for this CSRF cookie only
    # Downstream caches (a CDN) must keep users apart too: hits carry the same Vary.
    patch_vary_headers(response, ("Cookie",))
    route = timing.route_of(request)
    now = time.time()
    headers = [(k, v) for k, v in response.items() if k.lower() not in UNSTORED_HEADERS]
    variant = Variant(response.status_code, headers, response.content, now, now + ttl, route)
    tags = (*plan.engine.tags, *getattr(response, "cache_tags", ()), path_tag(request.path))
    return Prepared(
        variant,
        policy.vary_values(request, vary, plan.ignored_cookies),
        vary,
        tuple(dict.fromkeys(tags)),
        int(ttl),
        policy.stale_window(directives, conf["CACHE_STALE_WHILE_REVALIDATE"]),
    )


def entry(
    prepared: Prepared, current: dict[str, Any], seen: dict[str, Any], found: Found | None
) -> Entry | str:
    """The entry to store, or why not: a version read before the render has changed
    (the page was invalidated while it rendered, so it may show the old data)."""
    for key in prepared.version_keys:
        if key not in current:
            return "backend-error"
        if key in seen and seen[key] != current[key]:
            return "invalidated"
    new = Entry(
        generation=current[generation_key()],
        tags={t: current[tag_key(t)] for t in prepared.tags},
        vary=prepared.vary,
        stale=prepared.stale,
    )
    return new.with_variant(prepared.variant_key, prepared.variant, found and found.entry)


def stored(plan: Plan, prepared: Prepared) -> int:
    keys.remember_tags(plan.key.path, prepared.tags)
    return prepared.ttl


def not_stored(request: HttpRequest, reason: str) -> str:
    NOT_STORED.labels(timing.route_of(request), reason).inc()
    return reason


def store_failed(request: HttpRequest, exc: Exception) -> str:
    _count_failure(exc)
    logger.warning("response cache could not store %s: %s", request.path, exc)
    return "backend-error"


def label_miss(
    request: HttpRequest, response: Any, plan: Plan, found: Found | None, outcome: int | str
) -> Any:
    detail = f"stored; ttl={outcome}" if isinstance(outcome, int) else f"detail={outcome}"
    route = timing.route_of(request)
    if plan.refresh:
        REQUESTS.labels(route, "bypass").inc()
        label(response, "BYPASS", f"perfsuite; fwd=request; {detail}")
        return response
    REQUESTS.labels(route, "miss").inc()
    fwd = "uri-miss" if found is None else "vary-miss" if found.variant is None else "stale"
    label(response, "MISS", f"perfsuite; fwd={fwd}; {detail}")
    return response


# -- bypass and failure ------------------------------------------------------------
def bypass(request: HttpRequest, response: Any, reason: str) -> Any:
    REQUESTS.labels(timing.route_of(request), "bypass").inc()
    label(response, "BYPASS", f"perfsuite; fwd=bypass; detail={reason}")
    return response


def fail_open(request: HttpRequest, response: Any, exc: Exception) -> Any:
    _count_failure(exc)
    _warn(f"response cache backend failed, serving uncached: {exc!r}")
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
    response.headers["X-Cache"] = x_cache
    existing = response.headers.get("Cache-Status")
    response.headers["Cache-Status"] = f"{cache_status}, {existing}" if existing else cache_status


def _count_failure(exc: Exception) -> None:
    (SKIPPED if isinstance(exc, BackendUnavailable) else ERRORS).inc()


def _warn(message: str) -> None:
    from perfsuite.core.conf import perf_settings

    now = time.monotonic()
    if now - _last_warning[0] >= float(perf_settings.CACHE_WARNING_INTERVAL):
        _last_warning[0] = now
        logger.warning(message)
