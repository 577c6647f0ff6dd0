"""``MemoryMiddleware``: checks this process's memory now and then, after a response.

Hand-written hybrid middleware. Per request it only adds one to a counter. A
check is due once **both** ``MEMORY_CHECK_EVERY_REQUESTS`` requests have been
served **and** ``MEMORY_CHECK_INTERVAL`` seconds have passed since the previous
check (the later of the two): a busy process checks at most once per interval,
a quiet one at most once per N requests, so a check's cost (about 0.2 ms, with
USS) is spread over at least N requests. Past N, one request in N/10 reads the
clock until the interval has passed too (so the check comes at most N/10 requests
after it).

The check itself runs after the response was sent: it is appended to the
response's closers, which the WSGI server calls once the body is out
(``close()``) and Django's ASGI handler calls after the last body message. Put
the middleware high in ``MIDDLEWARE``: a middleware above it that replaces the
response (``ConditionalGetMiddleware``'s 304) drops the check with it (it then
comes N requests later). It
records the process's memory into gauges and, over the threshold, calls
``memory_manager.cleanup_memory()`` (at most once per cooldown). It fails open:
an error is logged, never raised. Changed settings apply from the next check.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest

from perfsuite.core.conf import perf_settings

from . import metrics, tracing
from .manager import MemoryManager, memory_manager

logger = logging.getLogger("perfsuite.memory")

_monotonic = time.monotonic


class MemoryMiddleware:
    sync_capable = True
    async_capable = True

    #: the manager the checks go through (a test or a subclass may set its own)
    manager: MemoryManager = memory_manager

    def __init__(self, get_response: Any) -> None:
        conf = perf_settings.as_dict()
        if not conf["MEMORY_ENABLED"]:
            raise MiddlewareNotUsed("memory: MEMORY_ENABLED is False")
        self.get_response = get_response
        self.every = int(conf["MEMORY_CHECK_EVERY_REQUESTS"])
        self.interval = float(conf["MEMORY_CHECK_INTERVAL"])
        self.count = 0  # requests since the last check (an increment lost to a race is harmless)
        self.last_check = _monotonic()
        self._lock = threading.Lock()
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        response = self.get_response(request)
        self.count += 1
        if self.count >= self.every:
            self._maybe_schedule(response)
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        response = await self.get_response(request)
        self.count += 1
        if self.count >= self.every:
            self._maybe_schedule(response)
        return response

    def _maybe_schedule(self, response: Any) -> None:
        """Attach a check to this response if the interval has passed too."""
        now = _monotonic()
        if now - self.last_check < self.interval:
            # not yet: read the clock again only after another tenth of N requests, so
            # a busy process between two checks pays the counter alone
            self.count -= max(1, self.every // 10)
            return
        closers = getattr(response, "_resource_closers", None)
        if closers is None or not self._lock.acquire(blocking=False):
            return  # not a Django response, or another thread is scheduling one
        try:
            if self.count < self.every:
                return  # that other thread scheduled the check already
            # the next N requests schedule none; the interval restarts when the check
            # runs: one lost with its response (replaced above us, a client gone)
            # is scheduled again N requests later
            self.count = 0
            closers.append(self.check)
        finally:
            self._lock.release()

    def check(self) -> None:
        """Record this process's memory; clean up when it is over the threshold."""
        self.last_check = _monotonic()
        try:
            conf = perf_settings.as_dict()
            self.every = int(conf["MEMORY_CHECK_EVERY_REQUESTS"])
            self.interval = float(conf["MEMORY_CHECK_INTERVAL"])
            reading = self.manager.read()
            metrics.record_reading(reading, check=True)
            reason = self.manager.cleanup_reason(reading)
            if reason is not None:
                self.manager.cleanup_memory(reason=reason)
        except Exception:  # monitoring never fails a request, nor the server's close()
            logger.warning("memory check failed", exc_info=True)
        tracing.maybe_snapshot()  # the leak finder (MEMORY_TRACE); never raises
