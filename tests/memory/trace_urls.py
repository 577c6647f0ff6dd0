"""A view that leaks on purpose, for the leak finder's test through the middleware."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.urls import path

#: what the view keeps alive (the tests clear it)
LEAKED: list[bytearray] = []
#: the line of the view that leaks
LEAK_LINE = 0


def leak(request: HttpRequest) -> HttpResponse:
    global LEAK_LINE
    LEAK_LINE = sys._getframe().f_lineno + 1
    LEAKED.extend(bytearray(512) for _ in range(200))
    return HttpResponse("leaked")


urlpatterns = [path("leak/", leak)]
