"""Per-request overhead of PerformanceMiddleware vs django-prometheus, WSGI and ASGI.

    .venv/bin/python benchmarks/bench_perf_monitor.py [--quick]

In-process, side by side in one run (see shared/BENCHMARKING.md): one handler per
middleware stack, repetitions interleaved in rotating order, medians and ratios.
"""

from __future__ import annotations

import asyncio
import sys
import time

from common import asgi_request, environ, setup_django, side_by_side, table

setup_django("benchmarks.settings.middleware")

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import override_settings  # noqa: E402

QUICK = "--quick" in sys.argv
N = 1000 if QUICK else 3000
N_ASYNC = 300 if QUICK else 1000
REPS = 5 if QUICK else 7

OURS = ["perfsuite.perf_monitor.middleware.PerformanceMiddleware"]
PROMETHEUS = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
SYNC_ONLY = ["benchmarks.bench_perf_monitor.SyncOnlyMiddleware"]


class SyncOnlyMiddleware:
    """What a typical sync-only middleware costs under ASGI (a thread hop)."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        return self.get_response(request)


def wsgi_handler(middleware: list[str]) -> WSGIHandler:
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def run_wsgi(handler: WSGIHandler) -> float:
    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        return None

    start = time.perf_counter()
    for _ in range(N):
        env = environ("/trivial/")
        result = handler(env, start_response)
        for _chunk in result:
            pass
        result.close()
    return (time.perf_counter() - start) / N


def asgi_handler(middleware: list[str]) -> ASGIHandler:
    with override_settings(MIDDLEWARE=middleware):
        return ASGIHandler()


def run_asgi(handler: ASGIHandler, loop: asyncio.AbstractEventLoop) -> float:
    async def many() -> None:
        for _ in range(N_ASYNC):
            await asgi_request(handler, "/async/")

    start = time.perf_counter()
    loop.run_until_complete(many())
    return (time.perf_counter() - start) / N_ASYNC


def main() -> None:
    handlers = {
        "bare": wsgi_handler([]),
        "django-prometheus": wsgi_handler(PROMETHEUS),
        "perfsuite PerformanceMiddleware": wsgi_handler(OURS),
    }
    for h in handlers.values():
        run_wsgi(h)  # warm-up
    results = side_by_side({k: (lambda h=h: run_wsgi(h)) for k, h in handlers.items()}, REPS)
    print(table("WSGI in-process, trivial view", results, "bare"))
    import statistics

    bare = statistics.median(results["bare"])
    prom = statistics.median(results["django-prometheus"]) - bare
    ours = statistics.median(results["perfsuite PerformanceMiddleware"]) - bare
    print(
        f"added per request: django-prometheus {prom * 1e6:.1f} µs, perfsuite {ours * 1e6:.1f} µs "
        f"(perfsuite / django-prometheus = {ours / prom:.2f})\n"
    )

    loop = asyncio.new_event_loop()
    ahandlers = {
        "bare": asgi_handler([]),
        "one sync-only middleware": asgi_handler(SYNC_ONLY),
        "django-prometheus": asgi_handler(PROMETHEUS),
        "perfsuite PerformanceMiddleware": asgi_handler(OURS),
    }
    for h in ahandlers.values():
        run_asgi(h, loop)
    aresults = side_by_side(
        {k: (lambda h=h: run_asgi(h, loop)) for k, h in ahandlers.items()}, REPS
    )
    print(table("ASGI in-process, async view", aresults, "bare"))
    abare = statistics.median(aresults["bare"])
    for name in list(ahandlers)[1:]:
        added = (statistics.median(aresults[name]) - abare) * 1e6
        print(f"added per request by {name}: {added:.1f} µs")
    loop.close()


if __name__ == "__main__":
    main()
