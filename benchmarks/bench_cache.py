"""Response cache hit cost vs Django's cache_page, WSGI and ASGI, locmem and Redis;
and the demo product page uncached vs served from the cache.

    .venv/bin/python benchmarks/bench_cache.py [--quick]

Both sides run behind the same SessionMiddleware + AuthenticationMiddleware stack
(ours needs the user for its key; cache_page runs inside it as a view decorator).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

from common import asgi_request, environ, side_by_side, table

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.services import RedisServer, redis_binary

QUICK = "--quick" in sys.argv
N = 1000 if QUICK else 3000
N_ASYNC = 300 if QUICK else 1000
REPS = 5 if QUICK else 7

server = None
if redis_binary():
    server = RedisServer(redis_binary())  # type: ignore[arg-type]
    server.start()
    os.environ["BENCH_REDIS_URL"] = server.url

os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings.cache"
import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

BASE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
OURS = [*BASE, "perfsuite.cache.middleware.ResponseCacheMiddleware"]
#: the other documented placement: before the session, for cookie-less requests
FRONT = ["perfsuite.cache.middleware.ResponseCacheMiddleware", *BASE]


def wsgi(middleware: list[str], alias: str):  # type: ignore[no-untyped-def]
    from django.core.handlers.wsgi import WSGIHandler

    with override_settings(MIDDLEWARE=middleware, PERFSUITE={"CACHE_ALIAS": alias}):
        return WSGIHandler()


def run_wsgi(handler, path: str, alias: str) -> float:  # type: ignore[no-untyped-def]
    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        return None

    with override_settings(PERFSUITE={"CACHE_ALIAS": alias}):
        start = time.perf_counter()
        for _ in range(N):
            result = handler(environ(path), start_response)
            for _chunk in result:
                pass
            if hasattr(result, "close"):  # optional in WSGI: the door's list has none
                result.close()
        return (time.perf_counter() - start) / N


def asgi(middleware: list[str]):  # type: ignore[no-untyped-def]
    from django.core.handlers.asgi import ASGIHandler

    with override_settings(MIDDLEWARE=middleware):
        return ASGIHandler()


def run_asgi(handler, path: str, alias: str, loop) -> float:  # type: ignore[no-untyped-def]
    async def many() -> None:
        for _ in range(N_ASYNC):
            await asgi_request(handler, path)

    with override_settings(PERFSUITE={"CACHE_ALIAS": alias}):
        start = time.perf_counter()
        loop.run_until_complete(many())
        return (time.perf_counter() - start) / N_ASYNC


def door(handler, middleware: list[str]):  # type: ignore[no-untyped-def]
    """``perfsuite_front`` over ``handler``, its responders built for ``middleware``."""
    from perfsuite.core.front import perfsuite_front

    wrapped = perfsuite_front(handler)
    with override_settings(MIDDLEWARE=middleware):
        assert any(type(r).__name__ == "CacheFront" for r in wrapped.responders)
    return wrapped


def main() -> None:
    configs = {
        "cache_page hit, locmem": (wsgi(BASE, "default"), "/cache-page/", "default"),
        "perfsuite hit, locmem": (wsgi(OURS, "default"), "/ours/", "default"),
    }
    if server is not None:
        configs["cache_page hit, django-redis"] = (
            wsgi(BASE, "redis"),
            "/cache-page-redis/",
            "redis",
        )
        configs["perfsuite hit, django-redis"] = (wsgi(OURS, "redis"), "/ours/", "redis")
    configs["perfsuite front hit, locmem"] = (wsgi(FRONT, "default"), "/ours/", "default")
    if server is not None:
        configs["perfsuite front hit, django-redis"] = (wsgi(FRONT, "redis"), "/ours/", "redis")
    configs["perfsuite front door hit, locmem"] = (
        door(wsgi(OURS, "default"), OURS),
        "/ours/",
        "default",
    )
    if server is not None:
        configs["perfsuite front door hit, django-redis"] = (
            door(wsgi(OURS, "redis"), OURS),
            "/ours/",
            "redis",
        )
    for handler, path, alias in configs.values():
        run_wsgi(handler, path, alias)  # warm: the first request stores the page
    results = side_by_side({name: (lambda c=c: run_wsgi(*c)) for name, c in configs.items()}, REPS)
    print(table("WSGI in-process, cache hit (11 KB page)", results, "cache_page hit, locmem"))
    report_pairs(results)

    loop = asyncio.new_event_loop()
    aconfigs = {
        "cache_page hit, locmem": (asgi(BASE), "/cache-page-async/", "default"),
        "perfsuite hit, locmem": (asgi(OURS), "/ours-async/", "default"),
    }
    if server is not None:
        aconfigs["cache_page hit, django-redis"] = (asgi(BASE), "/cache-page-redis-async/", "redis")
        aconfigs["perfsuite hit, django-redis"] = (asgi(OURS), "/ours-async/", "redis")
    aconfigs["perfsuite front hit, locmem"] = (asgi(FRONT), "/ours-async/", "default")
    if server is not None:
        aconfigs["perfsuite front hit, django-redis"] = (asgi(FRONT), "/ours-async/", "redis")
    aconfigs["perfsuite front door hit, locmem"] = (
        door(asgi(OURS), OURS),
        "/ours-async/",
        "default",
    )
    if server is not None:
        aconfigs["perfsuite front door hit, django-redis"] = (
            door(asgi(OURS), OURS),
            "/ours-async/",
            "redis",
        )
    for handler, path, alias in aconfigs.values():
        run_asgi(handler, path, alias, loop)
    aresults = side_by_side(
        {name: (lambda c=c: run_asgi(*c, loop)) for name, c in aconfigs.items()}, REPS
    )
    print(table("ASGI in-process, cache hit (11 KB page)", aresults, "cache_page hit, locmem"))
    report_pairs(aresults)
    loop.close()


def report_pairs(results: dict[str, list[float]]) -> None:
    for backend in ("locmem", "django-redis"):
        theirs = f"cache_page hit, {backend}"
        for variant in ("perfsuite", "perfsuite front", "perfsuite front door"):
            ours = f"{variant} hit, {backend}"
            if ours in results:
                ratio = statistics.median(
                    o / t for o, t in zip(results[ours], results[theirs], strict=True)
                )
                print(f"{variant} / cache_page on {backend}: x{ratio:.2f}")
    print()


if __name__ == "__main__":
    try:
        main()
    finally:
        if server is not None:
            server.cleanup()
