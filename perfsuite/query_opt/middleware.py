"""``QueryInstrumentationMiddleware``: every request's queries counted, timed and checked.

Hand-written hybrid middleware. For each request it opens a
:class:`~.instrumentation.QueryLog`, and at the end adds a ``db`` entry to the
request timing context (``Server-Timing: db;dur=…;desc="N queries"`` through
perf_monitor, where its details are shown), records the route's query count and
query time, and counts N+1 findings (:mod:`.detection`). Place it after
``PerformanceMiddleware``; it costs a few microseconds per query (see
docs/query_opt.md) and nothing when ``QUERY_INSTRUMENTATION`` is off.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest

from perfsuite.core import timing
from perfsuite.core.conf import perf_settings

from . import metrics
from .detection import Detector
from .instrumentation import QueryLog, begin, end, install_everywhere


class QueryInstrumentationMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        if not perf_settings.QUERY_INSTRUMENTATION:
            raise MiddlewareNotUsed
        install_everywhere()
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
            return self.get_response(request)
        finally:
            end(token)
            _close(request, log, detector)

    async def __acall__(self, request: HttpRequest) -> Any:
        log, detector = _open(request)
        token = begin(log)
        try:
            return await self.get_response(request)
        finally:
            end(token)
            _close(request, log, detector)


def _open(request: HttpRequest) -> tuple[QueryLog, Detector]:
    conf = perf_settings.as_dict()
    detector = Detector(request, conf["N_PLUS_ONE_MODE"], tuple(conf["N_PLUS_ONE_ALLOW"]))
    return QueryLog(threshold=int(conf["N_PLUS_ONE_THRESHOLD"]), on_repeat=detector), detector


def _close(request: HttpRequest, log: QueryLog, detector: Detector) -> None:
    if log.count:
        timing.add("db", log.seconds, f"{log.count} queries")
    route = timing.route_of(request)
    metrics.record_request(route, log.count, log.seconds)
    for _finding in detector.findings:
        metrics.record_finding(route)
