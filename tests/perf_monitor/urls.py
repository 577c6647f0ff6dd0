from __future__ import annotations

import asyncio

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from perfsuite.core import timing


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def with_timings(request: HttpRequest) -> HttpResponse:
    timing.add("db", 0.0123, 'orders "big" \\ query')
    timing.add("cache hit!", 0.001)
    return HttpResponse("timed")


def upstream_timing(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("cdn")
    response.headers["Server-Timing"] = "cdn;dur=1.5"
    return response


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("view failed")


def five_hundred(request: HttpRequest) -> HttpResponse:
    return HttpResponse("bad", status=500)


def item(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(f"item {pk}")


async def async_view(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(0)
    timing.add("async_work", 0.002)
    return HttpResponse("async")


#: set while slow_async runs: a test's client hangs up only then (no timing guess)
VIEW_STARTED: list[asyncio.Event] = []


async def slow_async(request: HttpRequest) -> HttpResponse:
    for event in VIEW_STARTED:
        event.set()
    await asyncio.sleep(5)
    return HttpResponse("slow")


urlpatterns = [
    path("slow-async/", slow_async),
    path("admin/", admin.site.urls),
    path("metrics/", include("perfsuite.perf_monitor.urls")),
    path("ok/", ok, name="ok"),
    path("timed/", with_timings),
    path("upstream/", upstream_timing),
    path("boom/", boom),
    path("five-hundred/", five_hundred),
    path("items/<int:pk>/", item),
    path("async/", async_view),
]
