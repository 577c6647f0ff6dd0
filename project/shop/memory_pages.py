"""The demo's memory pages: this process's figures (``/memory/``) and, with DEBUG on, a
leak to watch a cleanup and gunicorn's recycling happen (``/memory/leak/?mb=N``).

The leak is registered as a clearable cache (``perfsuite.core.caches``), as an app
registers whatever it keeps per process: a cleanup (over the threshold, or the
button) keeps its most recent half and gives the rest back to the kernel.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from itertools import count
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from perfsuite.core import caches
from perfsuite.memory import memory_manager

#: one request may keep at most this many MB, the process at most LEAK_TOTAL_MB
LEAK_STEP_MB = 256
LEAK_TOTAL_MB = 1024
_CHUNK = 64 * 1024  # 16 blocks a MB: the C heap, not one mmap per MB
_leak: OrderedDict[int, list[bytes]] = OrderedDict()
_numbers = count()
_lock = threading.Lock()


def leaked_mb() -> int:
    return len(_leak)


def _shrink(keep: float) -> int:
    with _lock:
        return caches.shrink_mapping(_leak, keep)


caches.register("demo.leak", size=lambda: (len(_leak), len(_leak) * 1024 * 1024), shrink=_shrink)


@never_cache
@require_safe
def memory_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "pid": os.getpid(),
        "usage": memory_manager.get_memory_usage(),
        "should_cleanup": memory_manager.should_cleanup(),
        "last": memory_manager.last_result,
        "caches": sorted(caches.sizes().items()),
        "leaked_mb": leaked_mb(),
        "debug": settings.DEBUG,
        "step": LEAK_STEP_MB,
    }
    return render(request, "shop/memory.html", context)


@never_cache
@require_safe
def leak(request: HttpRequest) -> JsonResponse:
    """Keep ``mb`` more MB alive in this process (DEBUG only; 404 otherwise)."""
    if not settings.DEBUG:
        raise Http404("the leak view exists with DEBUG on only")
    raw = request.GET.get("mb", "")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= LEAK_STEP_MB:
        return JsonResponse(
            {"error": f"mb must be a whole number from 1 to {LEAK_STEP_MB}"}, status=400
        )
    mb = int(raw)
    with _lock:
        if len(_leak) + mb > LEAK_TOTAL_MB:
            return JsonResponse(
                {"error": f"this process keeps {len(_leak)} MB; at most {LEAK_TOTAL_MB} MB"},
                status=400,
            )
        for _ in range(mb):
            # written bytes (not bytes(n), whose untouched zero pages cost no RSS)
            _leak[next(_numbers)] = [b"x" * _CHUNK for _ in range(16)]
    usage = memory_manager.get_memory_usage()
    return JsonResponse({"pid": os.getpid(), "leaked_mb": leaked_mb(), "rss_mb": usage["rss_mb"]})


@require_POST
@staff_member_required
def cleanup(request: HttpRequest) -> HttpResponse:
    """Run this process's cleanup now (staff; the cooldown still applies)."""
    memory_manager.cleanup_memory(reason="manual")
    return redirect("memory")
