"""The demo's URLs plus ``/bench/collect/``: a full collection in the worker that serves
it, as a long-running worker's collector eventually runs (bench_memory_gunicorn)."""

import gc
import os

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def collect(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pid": os.getpid(), "collected": gc.collect()})


urlpatterns = [path("bench/collect/", collect), path("", include("project.urls"))]
