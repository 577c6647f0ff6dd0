"""``PerformanceMiddleware``: times every request once, on WSGI and ASGI alike.

Hand-written hybrid middleware: under ASGI it is a coroutine and never hops to
a thread. All bookkeeping is in :meth:`PerformanceMiddleware._finish`, which never
lets an error of its own break the response.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from perfsuite.core import timing
from perfsuite.core.conf import perf_settings
from perfsuite.core.headers import set_header

from . import metrics

logger = logging.getLogger("perfsuite.perf_monitor")

_perf_counter = time.perf_counter
_settings = perf_settings.as_dict


class PerformanceMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        start = _perf_counter()
        token = timing.begin()
        metrics.request_started()
        try:
            try:
                response = self.get_response(request)
            except BaseException:
                self._finish(request, None, start)
                raise
            self._finish(request, response, start, _SYNC_USER)
            return response
        finally:
            timing.end(token)

    async def __acall__(self, request: HttpRequest) -> Any:
        start = _perf_counter()
        token = timing.begin()
        metrics.request_started()
        try:
            try:
                response = await self.get_response(request)
            except asyncio.CancelledError:
                # The client went away and Django cancelled the view: not a server
                # error, and no latency to record. Counted apart.
                metrics.request_finished()
                metrics.record_disconnect(request)
                raise
            except BaseException:
                self._finish(request, None, start)
                raise
            user = None
            if _settings()["SERVER_TIMING_DETAILS"] == "staff":
                auser = getattr(request, "auser", None)  # never a sync DB read here
                user = await auser() if auser is not None else None
            self._finish(request, response, start, user)
            return response
        finally:
            timing.end(token)

    def _finish(
        self,
        request: HttpRequest,
        response: HttpResponseBase | None,
        start: float,
        user: Any = None,
    ) -> None:
        elapsed = _perf_counter() - start
        metrics.request_finished()
        try:
            metrics.record_request(request, response, elapsed)
            if response is not None:
                add_headers(response, elapsed, request, user)
        except Exception:  # monitoring must never break the response
            logger.warning("perf_monitor bookkeeping failed", exc_info=True)


#: ``user`` of a sync request: read ``request.user`` (lazily) only when needed
_SYNC_USER = object()


def _details(mode: Any, request: HttpRequest, user: Any) -> bool:
    """May this response carry the detail entries of Server-Timing?

    ``SERVER_TIMING_DETAILS``: ``"none"`` (default: ``total`` only, nothing about
    the back end for any visitor), ``"all"``, ``"staff"`` (``user``: resolved with
    the async API under ASGI), or a list of origins matched against ``Origin``.
    """
    if mode == "none":
        return False
    if mode == "all":
        return True
    if mode == "staff":
        if user is _SYNC_USER:
            user = getattr(request, "user", None)
        return bool(user and getattr(user, "is_active", False) and getattr(user, "is_staff", False))
    return request.META.get("HTTP_ORIGIN") in mode


@functools.lru_cache(maxsize=1024)
def _token(name: str) -> str:
    """A Server-Timing metric name must be an HTTP token (memoised: names repeat)."""
    out = "".join(
        c if c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~") else "_" for c in name
    )
    return out or "_"


@functools.lru_cache(maxsize=1024)
def _quoted(text: str) -> str:
    """An HTTP quoted-string: printable ASCII, with backslash and quote escaped."""
    safe = "".join(c if c.isascii() and c.isprintable() else "?" for c in text[:100])
    return '"' + safe.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_timing_value(elapsed: float, details: bool = True, max_entries: int = 20) -> str:
    """``total``, then (when ``details``) at most ``max_entries`` entries of the
    request timing context, the rest summed as ``other``; descriptions are cut to
    100 characters, so the header stays far below proxies' limits."""
    parts = [f"total;dur={elapsed * 1000:.3f}"]
    current = timing.current() if details else None
    if current is not None:
        entries = current.entries
        for entry in entries[:max_entries]:
            part = f"{_token(entry.name)};dur={entry.duration * 1000:.3f}"
            if entry.description:
                part += f";desc={_quoted(entry.description)}"
            parts.append(part)
        rest = entries[max_entries:]
        if rest:
            parts.append(f"other;dur={sum(e.duration for e in rest) * 1000:.3f}")
    return ", ".join(parts)


def add_headers(
    response: HttpResponseBase, elapsed: float, request: HttpRequest | None = None, user: Any = None
) -> None:
    settings = _settings()
    ours = None
    if settings["SERVER_TIMING"]:
        mode = settings["SERVER_TIMING_DETAILS"]
        if mode == "none" or request is None:
            ours = total_timing(elapsed)  # the common case, in one step
        else:
            details = _details(mode, request, user)
            ours = server_timing_value(elapsed, details, settings["SERVER_TIMING_MAX_ENTRIES"])
        existing = response.headers.get("Server-Timing")
        if existing:
            ours = f"{existing}, {ours}"
    # Our values are ASCII by construction (numbers, tokens, escaped quoted-strings,
    # an origin check E002 validated): written straight into the header store.
    for name, value in timing_headers(settings, elapsed, ours):
        if name != "Timing-Allow-Origin" or name not in response.headers:
            set_header(response, name, value)


def total_timing(elapsed: float) -> str:
    return f"total;dur={elapsed * 1000:.3f}"


def timing_headers(
    settings: dict[str, Any], elapsed: float, server_timing: str | None = None
) -> list[tuple[str, str]]:
    """``X-Response-Time``, ``Server-Timing`` (``server_timing``, else the total) and
    ``Timing-Allow-Origin`` as the settings ask: for a response of Django's, or one
    the front door answered."""
    headers: list[tuple[str, str]] = []
    if settings["RESPONSE_TIME_HEADER"]:
        headers.append(("X-Response-Time", f"{elapsed:.3f}s"))
    if settings["SERVER_TIMING"]:
        headers.append(("Server-Timing", server_timing or f"total;dur={elapsed * 1000:.3f}"))
        origin = settings["TIMING_ALLOW_ORIGIN"]
        if origin:
            headers.append(("Timing-Allow-Origin", origin))
    return headers
