"""``StaticFilesMiddleware``: serves ``STATIC_URL`` from the start-up index, WSGI and ASGI.

Hand-written hybrid middleware (no ``MiddlewareMixin``, no thread hop under
ASGI): a request under the static prefix is one dict lookup; a file that is not
in the index goes on to the next layer (usually the URL resolver's 404), so
nothing outside the index is ever served. An unexpected error logs a warning and
lets the request through as if the middleware were absent. Raises
``MiddlewareNotUsed`` when there is nothing to serve (no ``STATIC_URL``, or no
collected files with ``DEBUG`` off).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from perfsuite.core import timing

from .serving import StaticFiles

#: the route perf_monitor records for every file this middleware serves
STATIC_ROUTE = "<static>"

logger = logging.getLogger("perfsuite.static_opt")


class StaticFilesMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        server = StaticFiles.from_settings()
        if server is None:
            raise MiddlewareNotUsed("static_opt: nothing to serve")
        self.server = server
        self.prefix = server.prefix
        self._cut = len(server.prefix)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        path = request.path_info
        if path.startswith(self.prefix):
            response = self._serve(path, request)
            if response is not None:
                return response
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        path = request.path_info
        if path.startswith(self.prefix):
            response = self._serve(path, request)
            if response is not None:
                return response
        return await self.get_response(request)

    def _serve(self, path: str, request: HttpRequest) -> HttpResponseBase | None:
        try:
            response = self.server.serve(path[self._cut :], request)
            if response is not None:
                # No URL resolution ran: give request timing one bounded route label.
                timing.set_route(STATIC_ROUTE)
            return response
        except Exception:  # fail open: the request goes on as if we were absent
            logger.warning("static_opt could not serve %s", path, exc_info=True)
            return None
