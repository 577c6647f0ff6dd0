"""The response cache: lookup, stampede control, storage, one flow for sync and async.

The flow is written once as a generator that yields I/O operations
(``("get_many", keys)``, ``("add", key, value, timeout)``, ``("render",)`` ...);
:meth:`ResponseCache.handle` runs them synchronously and :meth:`ResponseCache.ahandle`
awaits them, so WSGI and ASGI follow exactly the same rules.

One entry per page key holds up to ``MAX_VARIANTS`` responses (one per value of
the headers the response's ``Vary`` names), the namespace generation and the
version of every tag it was stored under. A hit is one ``get_many`` of the entry,
the generation and the tag versions: **one round trip**. Versions start at a
random value, so a version key evicted from the cache reads as a mismatch (a miss),
never as a match.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import set_response_etag
from django.utils.translation import get_language

from perfsuite.core import timing
from perfsuite.core.conf import perf_settings

from . import keys, policy
from .backend import CacheBackend
from .keys import backend_for, generation_key, key_prefix, path_tag, tag_key
from .metrics import BYTES_SERVED, ERRORS, NOT_STORED, REQUESTS

logger = logging.getLogger("perfsuite.cache")

_last_warning = [0.0]
MAX_VARIANTS = 8
#: set on the request by ResponseCacheMiddleware; decorated views then defer to it
MIDDLEWARE_MARK = "_perfsuite_response_cache"
POLL_INTERVAL = 0.025
#: headers never stored with a response
UNSTORED_HEADERS = frozenset(
    ("set-cookie", "x-cache", "cache-status", "age", "x-response-time", "server-timing")
)

Op = tuple[Any, ...]


@dataclass(slots=True)
class Found:
    entry: dict[str, Any]
    variant: tuple[Any, ...] | None  # (status, headers, content, created, fresh_until, route)
    now: float

    @property
    def fresh(self) -> bool:
        return self.variant is not None and self.now < self.variant[4]


@dataclass(slots=True)
class Context:
    entry_key: str
    lock_key: str
    tags: tuple[str, ...]
    keys: list[str]


class ResponseCache:
    """The shared engine of :class:`ResponseCacheMiddleware` and ``@cache_response``."""

    def __init__(
        self,
        *,
        ttl: int | None = None,
        tags: Sequence[str] = (),
        vary: Sequence[str] = (),
        alias: str | None = None,
    ) -> None:
        self.ttl = ttl
        self.tags = tuple(tags)
        self.vary = tuple(v.lower() for v in vary)
        self.alias = alias

    # -- drivers -----------------------------------------------------------
    def handle(self, request: HttpRequest, get_response: Callable[[HttpRequest], Any]) -> Any:
        backend = backend_for(self.alias or perf_settings.CACHE_ALIAS)
        flow = self._flow(request, backend)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            error = None
            try:
                value = self._run(op, backend, request, get_response)
            except BaseException as exc:  # handed to the flow, which decides
                error = exc

    async def ahandle(
        self, request: HttpRequest, get_response: Callable[[HttpRequest], Any]
    ) -> Any:
        backend = backend_for(self.alias or perf_settings.CACHE_ALIAS)
        flow = self._flow(request, backend)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                op = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            error = None
            try:
                value = await self._arun(op, backend, request, get_response)
            except BaseException as exc:
                error = exc

    @staticmethod
    def _run(op: Op, backend: CacheBackend, request: HttpRequest, get_response: Any) -> Any:
        kind = op[0]
        if kind == "get_many":
            return backend.get_many(op[1])
        if kind == "render":
            response = get_response(request)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response = response.render()
            return response
        if kind == "set":
            return backend.set(op[1], op[2], op[3])
        if kind == "add":
            return backend.add(op[1], op[2], op[3])
        if kind == "delete":
            return backend.delete(op[1])
        if kind == "sleep":
            time.sleep(op[1])
            return None
        raise ValueError(kind)

    @staticmethod
    async def _arun(op: Op, backend: CacheBackend, request: HttpRequest, get_response: Any) -> Any:
        import asyncio

        kind = op[0]
        if kind == "get_many":
            return await backend.aget_many(op[1])
        if kind == "render":
            response = await get_response(request)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response = response.render()
            return response
        if kind == "set":
            return await backend.aset(op[1], op[2], op[3])
        if kind == "add":
            return await backend.aadd(op[1], op[2], op[3])
        if kind == "delete":
            return await backend.adelete(op[1])
        if kind == "sleep":
            await asyncio.sleep(op[1])
            return None
        raise ValueError(kind)

    # -- the flow ------------------------------------------------------------
    def _flow(self, request: HttpRequest, backend: CacheBackend) -> Generator[Op, Any, Any]:
        conf = perf_settings.as_dict()
        skip = self._skip_reason(request, conf)
        if skip is not None:
            response = yield ("render",)
            route = timing.route_of(request)
            REQUESTS.labels(route, "bypass").inc()
            _label(response, "BYPASS", f"perfsuite; fwd=bypass; detail={skip}")
            return response
        ctx = self._context(request, conf)
        if ctx is None:
            response = yield ("render",)
            REQUESTS.labels(timing.route_of(request), "bypass").inc()
            _label(response, "BYPASS", "perfsuite; fwd=bypass; detail=needs-user")
            return response
        refresh = self._refresh_requested(request, conf)
        started = time.perf_counter()
        found: Found | None = None
        if not refresh:
            try:
                values = yield ("get_many", ctx.keys)
                found = yield from self._find(ctx, values, request)
            except Exception as exc:
                return (yield from self._fail_open(request, exc))
            if found is not None and found.fresh:
                timing.add("cache", time.perf_counter() - started, "hit")
                return self._serve(found, "hit")
        token = secrets.token_hex(8)
        try:
            locked = yield ("add", ctx.lock_key, token, conf["CACHE_LOCK_TIMEOUT"])
        except Exception as exc:
            return (yield from self._fail_open(request, exc))
        if not locked and not refresh:
            if found is not None and found.variant is not None and _within_stale(found):
                return self._serve(found, "stale")
            waited = yield from self._wait(ctx, request, float(conf["CACHE_LOCK_WAIT"]))
            if waited is not None:
                return self._serve(waited, "collapsed")
        try:
            response = yield ("render",)
            stored_ttl, reason = yield from self._store(request, response, ctx, conf, found)
        finally:
            if locked:
                try:
                    yield ("delete", ctx.lock_key)
                except Exception:
                    pass
        route = timing.route_of(request)
        if refresh:
            REQUESTS.labels(route, "bypass").inc()
            detail = f"stored; ttl={stored_ttl}" if stored_ttl else f"detail={reason}"
            _label(response, "BYPASS", f"perfsuite; fwd=request; {detail}")
        else:
            REQUESTS.labels(route, "miss").inc()
            fwd = "vary-miss" if found is not None and found.variant is None else "uri-miss"
            if found is not None and found.variant is not None:
                fwd = "stale"
            detail = f"stored; ttl={stored_ttl}" if stored_ttl else f"detail={reason}"
            _label(response, "MISS", f"perfsuite; fwd={fwd}; {detail}")
        return response

    def _fail_open(self, request: HttpRequest, exc: Exception) -> Generator[Op, Any, Any]:
        ERRORS.inc()
        now = time.monotonic()
        interval = float(perf_settings.CACHE_WARNING_INTERVAL)
        if now - _last_warning[0] >= interval:
            _last_warning[0] = now
            logger.warning("response cache backend failed, serving uncached: %s", exc)
        response = yield ("render",)
        REQUESTS.labels(timing.route_of(request), "bypass").inc()
        _label(response, "BYPASS", "perfsuite; fwd=bypass; detail=backend-error")
        return response

    # -- decisions -------------------------------------------------------------
    def _skip_reason(self, request: HttpRequest, conf: dict[str, Any]) -> str | None:
        if request.method not in ("GET", "HEAD"):
            return "method"
        path = request.path
        if any(path.startswith(prefix) for prefix in conf["CACHE_EXCLUDE_PATHS"]):
            return "excluded-path"
        if "HTTP_AUTHORIZATION" in request.META and not conf["CACHE_ALLOW_AUTHORIZATION"]:
            return "authorization"
        return None

    def _refresh_requested(self, request: HttpRequest, conf: dict[str, Any]) -> bool:
        if not policy.request_no_cache(request):
            return False
        trust = conf["CACHE_TRUST_NO_CACHE"]
        if trust == "all":
            return True
        if trust == "none":
            return False
        user = getattr(request, "user", None)
        return bool(django_settings.DEBUG or (user is not None and user.is_staff))

    def _context(self, request: HttpRequest, conf: dict[str, Any]) -> Context | None:
        who = policy.identity(request)
        if who is None:
            return None
        tracking = conf["CACHE_TRACKING_PARAMS"]
        language = getattr(request, "LANGUAGE_CODE", None) or get_language() or ""
        extra = policy.vary_values(request, self.vary)
        meta = request.META
        base = policy.digest(
            request.scheme or "http",
            keys.host(request),
            request.path,
            policy.normalized_query(meta.get("QUERY_STRING", ""), tracking),
            policy.normalized_accept(meta.get("HTTP_ACCEPT")),
            language,
            who,
            *extra,
        )
        entry_key = f"{key_prefix()}:e:{base}"
        tags = keys.known_tags.get(entry_key) or (*self.tags, path_tag(request.path))
        fetch = [entry_key, generation_key(), *(tag_key(t) for t in tags)]
        return Context(entry_key, f"{key_prefix()}:lock:{base}", tags, fetch)

    def _find(
        self, ctx: Context, values: dict[str, Any], request: HttpRequest
    ) -> Generator[Op, Any, Found | None]:
        entry = values.get(ctx.entry_key)
        if not isinstance(entry, dict):
            return None
        generation = values.get(generation_key())
        if generation is None or entry.get("g") != generation:
            return None
        versions: dict[str, Any] = entry.get("t", {})
        missing = [tag_key(t) for t in versions if tag_key(t) not in values]
        if missing:
            # First hit on this entry in this process: learn its tags (one more trip).
            more = yield ("get_many", missing)
            values = {**values, **more}
            keys.remember_tags(ctx.entry_key, tuple(versions))
        for tag, version in versions.items():
            if values.get(tag_key(tag)) != version:
                return None
        variant_key = policy.vary_values(request, entry.get("v", ()))
        variant = entry.get("r", {}).get(variant_key)
        return Found(entry, variant, time.time())

    def _wait(
        self, ctx: Context, request: HttpRequest, limit: float
    ) -> Generator[Op, Any, Found | None]:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            yield ("sleep", POLL_INTERVAL)
            try:
                values = yield ("get_many", [*ctx.keys, ctx.lock_key])
                found = yield from self._find(ctx, values, request)
            except Exception:
                return None
            if found is not None and found.fresh:
                return found
            if ctx.lock_key not in values:
                return None  # the render finished without storing: render ourselves
        return None

    def _store(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        ctx: Context,
        conf: dict[str, Any],
        found: Found | None,
    ) -> Generator[Op, Any, tuple[int, str | None]]:
        route = timing.route_of(request)
        status_ttls = conf["CACHE_STATUS_TTLS"]
        reason = policy.uncacheable_reason(request, response, status_ttls)
        if reason is None and request.method == "HEAD":
            reason = "head"
        directives = policy.cache_control(response.headers.get("Cache-Control"))
        ttl = self.ttl if self.ttl is not None else getattr(response, "cache_ttl", None)
        if ttl is None:
            ttl = policy.ttl_for(directives, conf["CACHE_DEFAULT_TTL"], conf["CACHE_MAX_TTL"])
        if reason is None:
            cap = status_ttls.get(response.status_code)
            if cap is not None:
                ttl = min(ttl, cap)
            if ttl <= 0:
                reason = "ttl-zero"
        if reason is not None:
            NOT_STORED.labels(route, reason).inc()
            return 0, reason
        if not isinstance(response, HttpResponse):
            NOT_STORED.labels(route, "unsupported").inc()
            return 0, "unsupported"
        if not response.has_header("ETag"):
            set_response_etag(response)
        vary_names = policy.vary_headers(response)
        tags = (*self.tags, *getattr(response, "cache_tags", ()), path_tag(request.path))
        version_keys = [generation_key(), *(tag_key(t) for t in tags)]
        try:
            current = yield ("get_many", version_keys)
            for key in version_keys:
                if key not in current:
                    fresh = secrets.randbits(62)
                    added = yield ("add", key, fresh, None)
                    if not added:
                        current.update((yield ("get_many", [key])))
                    else:
                        current[key] = fresh
            if any(key not in current for key in version_keys):
                return 0, "backend-error"
            now = time.time()
            stale = policy.stale_window(directives, conf["CACHE_STALE_WHILE_REVALIDATE"])
            headers = [(k, v) for k, v in response.items() if k.lower() not in UNSTORED_HEADERS]
            variant = (response.status_code, headers, response.content, now, now + ttl, route)
            entry: dict[str, Any] = {
                "g": current[generation_key()],
                "t": {t: current[tag_key(t)] for t in tags},
                "v": vary_names,
                "r": {},
                "s": stale,
            }
            old = found.entry if found is not None else None
            if (
                old
                and old.get("g") == entry["g"]
                and old.get("t") == entry["t"]
                and tuple(old.get("v", ())) == vary_names
            ):
                entry["r"] = dict(list(old.get("r", {}).items())[-(MAX_VARIANTS - 1) :])
            entry["r"][policy.vary_values(request, vary_names)] = variant
            yield ("set", ctx.entry_key, entry, ttl + stale)
        except Exception as exc:
            ERRORS.inc()
            logger.warning("response cache could not store %s: %s", request.path, exc)
            return 0, "backend-error"
        keys.remember_tags(ctx.entry_key, tags)
        return ttl, None

    # -- serving -----------------------------------------------------------------
    def _serve(self, found: Found, result: str) -> HttpResponse:
        assert found.variant is not None
        status, headers, content, created, fresh_until, route = found.variant
        response = HttpResponse(content, status=status)
        store = getattr(response.headers, "_store", None)
        if isinstance(store, dict):
            # Stored headers were validated when the response was made: restore them as is.
            store.update({key.lower(): (key, value) for key, value in headers})
        else:  # pragma: no cover - a Django without ResponseHeaders._store
            for key, value in headers:
                response.headers[key] = value
        now = found.now
        response.headers["Age"] = str(max(0, int(now - created)))
        ttl = int(fresh_until - now)
        if result == "hit":
            x_cache, status_value = "HIT", f"perfsuite; hit; ttl={ttl}"
        elif result == "stale":
            x_cache, status_value = "STALE", f"perfsuite; hit; fwd=stale; ttl={ttl}"
        else:
            x_cache, status_value = "HIT", f"perfsuite; fwd=uri-miss; collapsed; ttl={ttl}"
        _label(response, x_cache, status_value)
        timing.set_route(route)  # no URL resolution ran: tell perf_monitor the route
        REQUESTS.labels(route, result).inc()
        BYTES_SERVED.labels(route).inc(len(content))
        return response


def _within_stale(found: Found) -> bool:
    assert found.variant is not None
    return found.now < found.variant[4] + float(found.entry.get("s", 0))


def _label(response: Any, x_cache: str, cache_status: str) -> None:
    if response is None:
        return
    response.headers["X-Cache"] = x_cache
    existing = response.headers.get("Cache-Status")
    response.headers["Cache-Status"] = f"{cache_status}, {existing}" if existing else cache_status
