"""Per-request overhead of PerformanceMiddleware vs django-prometheus, WSGI and ASGI.

    .venv/bin/python benchmarks/bench_perf_monitor.py [--quick]

In-process, side by side in one run (see shared/BENCHMARKING.md): one handler per
middleware stack, many short repetitions interleaved in rotating order; each added
cost is the median of the paired differences (each pair a fraction of a second
apart) with its 95 % bootstrap interval, so a few µs are resolved on a noisy
machine. Alone, and inside Django's default 7-middleware stack (WSGI).
"""

from __future__ import annotations

import asyncio
import sys
import time

from common import asgi_request, environ, paired_difference, setup_django, side_by_side, table

setup_django("benchmarks.settings.middleware")

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import override_settings  # noqa: E402

QUICK = "--quick" in sys.argv
N = 300 if QUICK else 500
N_ASYNC = 60 if QUICK else 100
REPS = 31 if QUICK else 101
#: Django's default MIDDLEWARE (startproject)
DEFAULT_STACK = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

OURS = ["perfsuite.perf_monitor.middleware.PerformanceMiddleware"]
PROMETHEUS = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
SYNC_ONLY = ["benchmarks.bench_perf_monitor.SyncOnlyMiddleware"]
PASS = ["benchmarks.bench_memory.PassThroughMiddleware"]


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


def added(results: dict[str, list[float]], base: str) -> None:
    for name in results:
        if name == base:
            continue
        median, low, high = paired_difference(results[name], results[base])
        print(
            f"- added per request by {name}: {median * 1e6:+.1f} µs "
            f"[{low * 1e6:+.1f}, {high * 1e6:+.1f}]"
        )


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
    added(results, "bare")
    prom = paired_difference(results["django-prometheus"], results["bare"])[0]
    ours = paired_difference(results["perfsuite PerformanceMiddleware"], results["bare"])[0]
    print(f"perfsuite / django-prometheus (added costs) = {ours / prom:.3f}\n")

    session = "django.contrib.sessions.middleware.SessionMiddleware"
    stacks = {
        "default stack": wsgi_handler(DEFAULT_STACK),
        "default stack + django-prometheus": wsgi_handler(
            [PROMETHEUS[0], *DEFAULT_STACK, PROMETHEUS[1]]
        ),
        "default stack + PerformanceMiddleware": wsgi_handler(
            [DEFAULT_STACK[0], *OURS, *DEFAULT_STACK[1:]]
        ),
    }
    assert session in DEFAULT_STACK
    for h in stacks.values():
        run_wsgi(h)
    sresults = side_by_side({k: (lambda h=h: run_wsgi(h)) for k, h in stacks.items()}, REPS)
    print(table("WSGI in-process, Django's default 7-middleware stack", sresults, "default stack"))
    added(sresults, "default stack")
    prom = paired_difference(
        sresults["default stack + django-prometheus"], sresults["default stack"]
    )
    ours = paired_difference(
        sresults["default stack + PerformanceMiddleware"], sresults["default stack"]
    )
    print(f"in the stack: perfsuite / django-prometheus (added costs) = {ours[0] / prom[0]:.3f}\n")

    loop = asyncio.new_event_loop()
    ahandlers = {
        "bare": asgi_handler([]),
        "an async pass-through middleware": asgi_handler(PASS),
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
    added(aresults, "bare")
    loop.close()


if __name__ == "__main__":
    main()
