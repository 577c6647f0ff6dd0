"""The request timing context: named durations collected during one request.

``perf_monitor`` opens a context per request and turns it into the
``Server-Timing`` header and the per-route breakdown; any app adds entries:

    from perfsuite.core import timing

    with timing.timed("db", "orders query"):
        ...
    timing.add("cache", 0.0021, "hit")

Outside a request (management commands, Celery tasks) ``add`` and ``timed`` cost
one context-variable lookup and record nothing. The context is a contextvar, so
each thread and each asyncio task sees its own request; tasks and
``sync_to_async`` threads spawned by a request share that request's entries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Entry:
    name: str
    duration: float  # seconds
    description: str | None = None


class RequestTimings:
    __slots__ = ("entries", "route")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        #: the route an app answered for, when URL resolution did not run
        #: (a response served from a cache): see :func:`set_route`
        self.route: str | None = None

    def add(self, name: str, duration: float, description: str | None = None) -> None:
        self.entries.append(Entry(name, duration, description))

    def totals(self) -> dict[str, float]:
        """Seconds per entry name, summed."""
        out: dict[str, float] = {}
        for entry in self.entries:
            out[entry.name] = out.get(entry.name, 0.0) + entry.duration
        return out


_current: ContextVar[RequestTimings | None] = ContextVar("perfsuite_timings", default=None)


def begin() -> Token[RequestTimings | None]:
    """Open a timing context for the current request; pass the token to :func:`end`."""
    return _current.set(RequestTimings())


def end(token: Token[RequestTimings | None]) -> None:
    _current.reset(token)


def current() -> RequestTimings | None:
    return _current.get()


#: the route label of a request no URL pattern matched
UNMATCHED = "<unmatched>"


def route_of(request: Any) -> str:
    """The bounded route label of a request, shared by every app's metrics.

    The URL pattern (``ResolverMatch.route``), else the view name, else the route
    an app named with :func:`set_route` (a response served before URL resolution),
    else :data:`UNMATCHED`: never the raw path.
    """
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route or match.view_name or UNMATCHED
    timings = _current.get()
    return (timings.route if timings is not None else None) or UNMATCHED


def set_route(route: str) -> None:
    """Name the route of the current request when no view resolved it (e.g. a cache hit)."""
    timings = _current.get()
    if timings is not None:
        timings.route = route


def add(name: str, duration: float, description: str | None = None) -> None:
    """Add a named duration (seconds) to the current request, if there is one."""
    timings = _current.get()
    if timings is not None:
        timings.entries.append(Entry(name, duration, description))


@contextmanager
def timed(name: str, description: str | None = None) -> Iterator[None]:
    """Time the ``with`` block and add it to the current request."""
    timings = _current.get()
    if timings is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        timings.entries.append(Entry(name, time.perf_counter() - start, description))
