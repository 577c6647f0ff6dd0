"""A tiny URLconf for static_opt tests: a view that uses StaticAssetOptimizer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("not a static file")


urlpatterns = [path("page/", ok)]
