"""Views of the gunicorn recycling tests: a leak that keeps N MB alive in this worker,
and a page that names the worker serving it."""

from __future__ import annotations

import gc
import os

import psutil
from django.http import HttpRequest, JsonResponse
from django.urls import path

MB = 1024 * 1024
#: what /leak/ keeps alive, for the life of the worker
LEAKED: list[bytes] = []


def _worker() -> dict[str, int]:
    return {
        "pid": os.getpid(),
        "frozen": gc.get_freeze_count(),
        "rss": psutil.Process().memory_info().rss,
    }


def leak(request: HttpRequest) -> JsonResponse:
    megabytes = int(request.GET.get("mb", "10"))
    LEAKED.append(b"\x01" * (megabytes * MB))  # written, so resident (not calloc's zero pages)
    return JsonResponse(_worker())


def worker(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_worker())


urlpatterns = [path("leak/", leak), path("worker/", worker)]
