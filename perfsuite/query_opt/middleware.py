"""``QueryInstrumentationMiddleware``: every request's queries counted, timed and checked.

Hand-written hybrid middleware. For each request it opens a
:class:`~.instrumentation.QueryLog`, and at the end adds a ``db`` entry to the
request timing context (``Server-Timing: db;dur=…;desc="N queries"`` through
perf_monitor, where its details are shown), records the route's query count and
query time, and counts N+1 findings (:mod:`.detection`) and unused eager loads
(:mod:`.eager`, reported once the response is done). Place it after
``PerformanceMiddleware``; it costs a few microseconds per query (see
docs/query_opt.md) and nothing when ``QUERY_INSTRUMENTATION`` is off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest

from perfsuite.core import timing
from perfsuite.core.conf import perf_settings

from . import eager, metrics
from .detection import N_PLUS_ONE, Detector, request_boundary
from .instrumentation import QueryLog, begin, end, install_everywhere

logger = logging.getLogger("perfsuite.query_opt")


class QueryInstrumentationMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        if not perf_settings.QUERY_INSTRUMENTATION:
            raise MiddlewareNotUsed
        install_everywhere()
        eager.install()
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        log, detector = _open(request)
        token = begin(log)
        try:
            response = self.get_response(request)
        finally:
            end(token)
            _close(request, log, detector)
        _unused(request, response, log, detector)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        log, detector = _open(request)
        log.task = asyncio.current_task()  # an awaited ORM call's caller is found there
        token = begin(log)
        try:
            response = await self.get_response(request)
        finally:
            end(token)
            _close(request, log, detector)
        _unused(request, response, log, detector)
        return response


request_boundary(QueryInstrumentationMiddleware.__call__, QueryInstrumentationMiddleware.__acall__)


def _open(request: HttpRequest) -> tuple[QueryLog, Detector]:
    conf = perf_settings.as_dict()
    detector = Detector(
        request,
        conf["N_PLUS_ONE_MODE"],
        tuple(conf["N_PLUS_ONE_ALLOW"]),
        conf["UNUSED_EAGER_MODE"],
    )
    log = QueryLog(threshold=int(conf["N_PLUS_ONE_THRESHOLD"]), on_repeat=detector)
    if detector.unused_mode != "off":
        log.eager = eager.EagerTracker()
    return log, detector


def _close(request: HttpRequest, log: QueryLog, detector: Detector) -> None:
    if log.count:
        timing.add("db", log.seconds, f"{log.count} {'query' if log.count == 1 else 'queries'}")
    route = timing.route_of(request)
    metrics.record_request(route, log.count, log.seconds)
    for finding in detector.findings:
        if finding.kind == N_PLUS_ONE:
            metrics.record_finding(route)
            metrics.record_site(finding.kind, route, finding.caller, "")


def _unused(request: HttpRequest, response: Any, log: QueryLog, detector: Detector) -> None:
    """Report the eager loads the request never read; a streamed body may still read
    them after this, so a streaming response is not judged."""
    if log.eager is None or not log.eager.loads or getattr(response, "streaming", False):
        return
    try:
        loads = log.eager.unused()
    except Exception:  # monitoring never fails a request
        logger.warning("unused eager load check failed", exc_info=True)
        return
    found = detector.unused(loads)
    route = timing.route_of(request)
    for finding in found:
        metrics.record_unused_eager(route)
        metrics.record_site(
            finding.kind, route, finding.caller, f"{finding.via}({finding.relation})"
        )
    detector.raise_for(found)
