"""The response cache at the front door (``perfsuite.core.front``): fresh hits of
anonymous, cookie-less requests answered before Django's handler.

Only what cannot be anyone's page but the anonymous visitor's: a ``GET``/``HEAD``
without a ``Cookie``, ``Authorization`` or ``REMOTE_USER``, looked up under the same
key, generation, tags and ``Vary`` as :class:`~.middleware.ResponseCacheMiddleware`
would (the shared anonymous bucket). A miss, a stale entry, a refresh request, a
pending invalidation or a backend error goes to Django, whose middleware does what it
always does (render, collapse, serve stale, bypass on an outage).

The middleware above ``ResponseCacheMiddleware`` would have processed a hit on its way
out; the door applies the same ones itself (``process_response`` of Security,
ConditionalGet, Common, GZip and X-Frame-Options middleware) and knows that the
others do nothing to such a hit (session, CSRF, auth, messages, the suite's own).
With any other middleware above the cache, or ``LocaleMiddleware`` (the language is
in the key), the door does not answer from the cache at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.utils.module_loading import import_string

from perfsuite.core.conf import perf_settings
from perfsuite.core.front import Answer

from . import invalidation, policy, steps
from .engine import ResponseCache

OURS = "perfsuite.cache.middleware.ResponseCacheMiddleware"
#: outer middleware whose process_response the door runs on a hit, as Django would
APPLIED = frozenset(
    (
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.http.ConditionalGetMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    )
)
#: outer middleware that does nothing to a hit of a cookie-less anonymous request
INERT = frozenset(
    (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "perfsuite.perf_monitor.middleware.PerformanceMiddleware",  # its observer counts
        "perfsuite.static_opt.middleware.StaticFilesMiddleware",
        "perfsuite.query_opt.middleware.QueryInstrumentationMiddleware",
        "perfsuite.memory.middleware.MemoryMiddleware",
    )
)
PERSONAL = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "REMOTE_USER")


def _never(request: Any) -> Any:
    raise AssertionError("the front door never calls a view")


class CacheFront:
    """A front responder answering fresh anonymous hits of the response cache."""

    prefix = "/"
    order = 50

    def __init__(self, outer: list[Any]) -> None:
        #: the applied outer middleware, innermost first (the order responses go out)
        self.outer = outer
        self.engine = ResponseCache()

    @classmethod
    def from_settings(cls) -> CacheFront | None:
        middleware = list(settings.MIDDLEWARE)
        if OURS not in middleware:
            return None
        above = middleware[: middleware.index(OURS)]
        if any(path not in APPLIED and path not in INERT for path in above):
            return None  # something above could change a hit in ways we do not know
        outer = [import_string(path)(_never) for path in reversed(above) if path in APPLIED]
        return cls(outer)

    def __repr__(self) -> str:
        return "<CacheFront>"

    def _plan(self, method: str, meta: Mapping[str, Any]) -> tuple[Any, Any] | None:
        if method not in ("GET", "HEAD") or any(name in meta for name in PERSONAL):
            return None
        request = WSGIRequest(meta)  # type: ignore[arg-type]
        conf = perf_settings.as_dict()
        if steps.skip_reason(request, conf, None) or policy.request_no_cache(request):
            return None
        if invalidation.has_pending():
            return None  # the middleware replays them first
        try:
            return request, steps.plan(self.engine, request, "anon", conf, refresh=False)
        except DisallowedHost:
            return None  # Django answers 400 (and logs it once, its way)

    def answer(self, method: str, path: str, meta: Mapping[str, Any]) -> Answer | None:
        planned = self._plan(method, meta)
        if planned is None:
            return None
        request, plan = planned
        started = time.perf_counter()
        try:
            _values, found = self.engine._read(plan, request)  # the middleware's lookup
        except Exception:
            return None  # Django's middleware meets the outage and bypasses
        return self._answer(request, found, started)

    async def aanswer(self, method: str, path: str, meta: Mapping[str, Any]) -> Answer | None:
        planned = self._plan(method, meta)
        if planned is None:
            return None
        request, plan = planned
        started = time.perf_counter()
        try:
            _values, found = await self.engine._aread(plan, request)
        except Exception:
            return None
        return self._answer(request, found, started)

    def _answer(self, request: Any, found: Any, started: float) -> Answer | None:
        if found is None or not found.fresh:
            return None  # a miss or a stale copy: the middleware renders or collapses
        response = steps.serve(found, "hit", started)
        for middleware in self.outer:
            response = middleware.process_response(request, response)
        headers = list(response.items())
        headers.extend(("Set-Cookie", c.output(header="")) for c in response.cookies.values())
        body = b"" if request.method == "HEAD" else response.content
        return Answer(response.status_code, headers, found.variant.route, body=body)


def register_front() -> None:
    from perfsuite.core import front

    front.register("cache", CacheFront.from_settings)


__all__ = ["CacheFront", "register_front"]
