"""``ResponseCacheMiddleware``: whole-site response caching, WSGI and ASGI.

Place it after ``SessionMiddleware``, ``AuthenticationMiddleware`` and
``LocaleMiddleware`` (the key needs the user and the language) and before the
middleware whose work a hit should skip. Check ``perfsuite.W501`` reports a
wrong order.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest

from .engine import MIDDLEWARE_MARK, ResponseCache


class ResponseCacheMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.engine = ResponseCache()
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        setattr(request, MIDDLEWARE_MARK, True)
        if self.async_mode:
            return self.engine.ahandle(request, self.get_response)
        return self.engine.handle(request, self.get_response)
