"""The response cache's request path, for ResponseCacheMiddleware and ``@cache_response``.

A request goes through four steps, written once for WSGI (:meth:`ResponseCache.handle`)
and once for ASGI (:meth:`ResponseCache.ahandle`), as Django's own handler is; every
decision between the steps is a plain function shared by both (:mod:`.steps`,
:mod:`.storing`):

1. **Plan**: may this request use the cache, who is asking (the user's id, an
   anonymous session's bucket, or the shared anonymous bucket), and the page key.
2. **Lookup**: one round trip reads the entry, the namespace generation and the
   version of each tag the page is known to have. A fresh variant is a **hit**.
3. **Lock or wait**: on a miss, take the page's render lock (``SET NX``). With the
   lock, read once more (another request may have stored the page meanwhile);
   without it, serve the stale copy if there is one, else wait for the other
   render's result (**collapsed**).
4. **Render and store**: run the view, decide whether the response may be stored
   (:mod:`.policy`), and store it unless a tag it depends on was invalidated while
   it rendered.

Any backend failure serves the request uncached (``X-Cache: BYPASS``) and opens the
backend's circuit breaker, so the next requests skip it instead of waiting.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from perfsuite.core.conf import perf_settings

from . import identity, invalidation, policy, steps, storing
from .entries import Found
from .steps import Plan

#: set on the request by ResponseCacheMiddleware; decorated views then defer to it
MIDDLEWARE_MARK = "_perfsuite_response_cache"
POLL_INTERVAL = 0.025


class ResponseCache:
    """The shared engine of :class:`ResponseCacheMiddleware` and ``@cache_response``.

    Placed before the session and auth middleware, only cookie-less requests
    are looked up (the others bypass with ``detail=needs-user``).
    """

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

    # -- WSGI ----------------------------------------------------------------
    def handle(self, request: HttpRequest, get_response: Callable[[HttpRequest], Any]) -> Any:
        conf = perf_settings.as_dict()
        reason = steps.skip_reason(request, conf, self.alias)
        who = identity.identity(request) if reason is None else None
        if who is None:
            response = steps.rendered(get_response(request))
            return steps.bypass(request, response, reason or "needs-user")
        refresh = steps.refresh_requested(request, conf, lambda: getattr(request, "user", None))
        plan = steps.plan(self, request, who, conf, refresh)
        backend = plan.backend
        started = time.perf_counter()
        locked = False
        try:
            if invalidation.has_pending():
                invalidation.replay_pending()
            seen, found = self._read(plan, request)
            if found is not None and found.fresh and not refresh:
                return steps.serve(found, "hit", started)
            locked = backend.add(plan.key.lock, secrets.token_hex(8), plan.lock_timeout)
            if locked and not refresh:
                seen, found = self._read(plan, request)  # stored while we looked?
                if found is not None and found.fresh:
                    backend.delete(plan.key.lock)
                    return steps.serve(found, "collapsed", started)
        except Exception as exc:
            if locked:
                steps.quietly(backend.delete, plan.key.lock)
            return steps.fail_open(request, steps.rendered(get_response(request)), exc)
        if not locked and not refresh:
            if found is not None and found.servable_stale:
                return steps.serve(found, "stale", started)
            waited = self._wait(plan, request)
            if waited is not None:
                return steps.serve(waited, "collapsed", started)
        try:
            response = steps.rendered(get_response(request))
            outcome = self._store(plan, request, response, seen, found)
        finally:
            if locked:
                steps.quietly(backend.delete, plan.key.lock)
        return steps.label_miss(request, response, plan, found, outcome)

    def _read(self, plan: Plan, request: HttpRequest) -> tuple[dict[str, Any], Found | None]:
        values = plan.backend.get_many(plan.key.fetch())
        found, missing = steps.find(plan, request, values)
        if missing:  # the entry has tags this process did not know: one more trip
            values.update(plan.backend.get_many(missing))
            found, _ = steps.find(plan, request, values)
        return values, found

    def _wait(self, plan: Plan, request: HttpRequest) -> Found | None:
        deadline = time.monotonic() + plan.lock_wait
        while time.monotonic() < deadline:
            time.sleep(POLL_INTERVAL)
            try:
                values = plan.backend.get_many([*plan.key.fetch(), plan.key.lock])
            except Exception:
                return None
            found, _ = steps.find(plan, request, values)
            if found is not None and found.fresh:
                return found
            if plan.key.lock not in values:
                return None  # the render finished without storing: render ourselves
        return None

    def _store(
        self,
        plan: Plan,
        request: HttpRequest,
        response: Any,
        seen: dict[str, Any],
        found: Found | None,
    ) -> int | str:
        prepared = storing.prepare(plan, request, response)
        if isinstance(prepared, str):
            return storing.not_stored(request, prepared)
        try:
            current = plan.backend.versions(prepared.version_keys, prepared.lifetime)
            entry = storing.entry(prepared, current, seen, found)
            if isinstance(entry, str):
                return storing.not_stored(request, entry)
            plan.backend.set(plan.key.entry, entry, prepared.lifetime)
        except Exception as exc:
            return storing.store_failed(request, exc)
        return storing.stored(plan, prepared)

    # -- ASGI: the same steps, awaited ----------------------------------------
    async def ahandle(
        self, request: HttpRequest, get_response: Callable[[HttpRequest], Any]
    ) -> Any:
        conf = perf_settings.as_dict()
        reason = steps.skip_reason(request, conf, self.alias)
        who = await identity.aidentity(request) if reason is None else None
        if who is None:
            response = steps.rendered(await get_response(request))
            return steps.bypass(request, response, reason or "needs-user")
        user = None
        if policy.request_no_cache(request) and hasattr(request, "auser"):
            user = await request.auser()
        refresh = steps.refresh_requested(request, conf, lambda: user)
        plan = steps.plan(self, request, who, conf, refresh)
        backend = plan.backend
        started = time.perf_counter()
        locked = False
        try:
            if invalidation.has_pending():
                await sync_to_async(invalidation.replay_pending)()
            seen, found = await self._aread(plan, request)
            if found is not None and found.fresh and not refresh:
                return steps.serve(found, "hit", started)
            locked = await backend.aadd(plan.key.lock, secrets.token_hex(8), plan.lock_timeout)
            if locked and not refresh:
                seen, found = await self._aread(plan, request)
                if found is not None and found.fresh:
                    await backend.adelete(plan.key.lock)
                    return steps.serve(found, "collapsed", started)
        except Exception as exc:
            if locked:
                await steps.aquietly(backend.adelete, plan.key.lock)
            return steps.fail_open(request, steps.rendered(await get_response(request)), exc)
        if not locked and not refresh:
            if found is not None and found.servable_stale:
                return steps.serve(found, "stale", started)
            waited = await self._await(plan, request)
            if waited is not None:
                return steps.serve(waited, "collapsed", started)
        try:
            response = steps.rendered(await get_response(request))
            outcome = await self._astore(plan, request, response, seen, found)
        finally:
            if locked:
                await steps.aquietly(backend.adelete, plan.key.lock)
        return steps.label_miss(request, response, plan, found, outcome)

    async def _aread(self, plan: Plan, request: HttpRequest) -> tuple[dict[str, Any], Found | None]:
        values = await plan.backend.aget_many(plan.key.fetch())
        found, missing = steps.find(plan, request, values)
        if missing:
            values.update(await plan.backend.aget_many(missing))
            found, _ = steps.find(plan, request, values)
        return values, found

    async def _await(self, plan: Plan, request: HttpRequest) -> Found | None:
        deadline = time.monotonic() + plan.lock_wait
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
            try:
                values = await plan.backend.aget_many([*plan.key.fetch(), plan.key.lock])
            except Exception:
                return None
            found, _ = steps.find(plan, request, values)
            if found is not None and found.fresh:
                return found
            if plan.key.lock not in values:
                return None
        return None

    async def _astore(
        self,
        plan: Plan,
        request: HttpRequest,
        response: Any,
        seen: dict[str, Any],
        found: Found | None,
    ) -> int | str:
        prepared = storing.prepare(plan, request, response)
        if isinstance(prepared, str):
            return storing.not_stored(request, prepared)
        try:
            current = await plan.backend.aversions(prepared.version_keys, prepared.lifetime)
            entry = storing.entry(prepared, current, seen, found)
            if isinstance(entry, str):
                return storing.not_stored(request, entry)
            await plan.backend.aset(plan.key.entry, entry, prepared.lifetime)
        except Exception as exc:
            return storing.store_failed(request, exc)
        return storing.stored(plan, prepared)
