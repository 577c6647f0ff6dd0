"""MemoryMiddleware's cost per request, and what a cleanup costs and gives back.

    .venv/bin/python benchmarks/bench_memory.py [--quick] [--only middleware|cleanup]

1. Per-request overhead in-process, WSGI and ASGI (a trivial view): no middleware,
   ``MemoryMiddleware`` with its defaults, with a check every 1,000 requests
   (``MEMORY_CHECK_INTERVAL = 0``: the check's cost amortised), and the guide's
   design (psutil's RSS read after every request, as its
   ``memory_monitoring_middleware``; hybrid here too, so only psutil is measured).
   Many short repetitions in rotating order; the added cost is the median of the
   paired differences with its 95 % bootstrap interval.
2. Cleanup after allocating and freeing 200 MB of small objects (1 KB each, every
   100th kept alive, as a heap in use looks) with a registered clearable cache of
   ~50 MB: ``gc.collect()`` alone, then with the cache shrunk to half, then the
   whole ``cleanup_memory()`` (collect, shrink, ``malloc_trim(0)``). Each run in a
   fresh process, configurations in rotating order; medians of the time taken and
   of the RSS given back.

Side by side in one run (shared/BENCHMARKING.md); no figure is asserted.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from common import (
    ROOT,
    asgi_request,
    environ,
    paired_difference,
    setup_django,
    side_by_side,
    table,
)

QUICK = "--quick" in sys.argv
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
#: many short paired repetitions (each a fraction of a second): see paired_difference
N = 500 if QUICK else 1000
N_ASYNC = 100 if QUICK else 200
REPS = 15 if QUICK else 41


class GuideMemoryMiddleware:
    """The guide's design: ``should_cleanup()`` after every request, which builds a
    ``psutil.Process()`` and reads ``memory_info()`` and ``memory_percent()``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        import psutil
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.psutil = psutil
        self.limit_mb = 10**9
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)
            self.async_mode = True
        else:
            self.async_mode = False

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        response = self.get_response(request)
        if self.should_cleanup():  # never true here: the reading is the cost
            import gc

            gc.collect()
        return response

    def should_cleanup(self) -> bool:
        process = self.psutil.Process()
        memory_info = process.memory_info()
        usage = {"rss_mb": memory_info.rss / 1024 / 1024, "percent": process.memory_percent()}
        return usage["rss_mb"] > self.limit_mb

    async def __acall__(self, request: Any) -> Any:
        response = await self.get_response(request)
        if self.should_cleanup():
            import gc

            gc.collect()
        return response


class PassThroughMiddleware:
    """The floor of any middleware: a hybrid layer that does nothing."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request: Any) -> Any:
        return await self.get_response(request)


OURS = ["perfsuite.memory.middleware.MemoryMiddleware"]
GUIDE = ["benchmarks.bench_memory.GuideMemoryMiddleware"]
CONFIGS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "no middleware": ([], {}),
    "a pass-through hybrid middleware (the floor)": (
        ["benchmarks.bench_memory.PassThroughMiddleware"],
        {},
    ),
    "MemoryMiddleware (defaults: 1,000 requests and 30 s)": (OURS, {}),
    "MemoryMiddleware, a check every 1,000 requests": (
        OURS,
        {"MEMORY_CHECK_EVERY_REQUESTS": 1000, "MEMORY_CHECK_INTERVAL": 0},
    ),
    "the guide's design (psutil every request)": (GUIDE, {}),
}


def middleware_section() -> None:
    setup_django("benchmarks.settings.memory")
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from perfsuite.memory.middleware import MemoryMiddleware

    checks: dict[str, int] = {}

    def handler(kind: str, name: str) -> Any:
        middleware, conf = CONFIGS[name]
        with override_settings(MIDDLEWARE=middleware, PERFSUITE={"STORE": "local", **conf}):
            return WSGIHandler() if kind == "wsgi" else ASGIHandler()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        return None

    def run_wsgi(h: Any, conf: dict[str, Any]) -> float:
        with override_settings(PERFSUITE={"STORE": "local", **conf}):
            start = time.perf_counter()
            for _ in range(N):
                result = h(environ("/trivial/"), start_response)
                for _chunk in result:
                    pass
                result.close()
            return (time.perf_counter() - start) / N

    loop = asyncio.new_event_loop()

    def run_asgi(h: Any, conf: dict[str, Any]) -> float:
        async def many() -> None:
            for _ in range(N_ASYNC):
                await asgi_request(h, "/async/")

        with override_settings(PERFSUITE={"STORE": "local", **conf}):
            start = time.perf_counter()
            loop.run_until_complete(many())
            return (time.perf_counter() - start) / N_ASYNC

    original_check = MemoryMiddleware.check
    original_init = MemoryMiddleware.__init__
    label = [""]

    def labelled(self: Any, get_response: Any) -> None:
        original_init(self, get_response)
        self._bench_kind = label[0]

    MemoryMiddleware.__init__ = labelled  # type: ignore[method-assign]

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        checks[self._bench_kind] = checks.get(self._bench_kind, 0) + 1
        return original_check(self, *args, **kwargs)

    MemoryMiddleware.check = counted  # type: ignore[method-assign]
    for kind, run, path in (("wsgi", run_wsgi, "WSGI"), ("asgi", run_asgi, "ASGI")):
        handlers = {}
        for name in CONFIGS:
            label[0] = f"{path}: {name}"
            handlers[name] = handler(kind, name)
        for name, h in handlers.items():
            run(h, CONFIGS[name][1])  # warm up
        checks.clear()
        results = side_by_side(
            {n: (lambda h=h, n=n, run=run: run(h, CONFIGS[n][1])) for n, h in handlers.items()},
            REPS,
        )
        print(table(f"{path} in-process, trivial view", results, "no middleware"))
        for name in list(CONFIGS)[1:]:
            added, low, high = paired_difference(results[name], results["no middleware"])
            print(
                f"- added per request by {name}: {added * 1e6:+.2f} µs "
                f"[{low * 1e6:+.2f}, {high * 1e6:+.2f}] (95 % interval of paired runs)"
            )
        print(f"- checks run during the measured repetitions: {dict(sorted(checks.items()))}\n")
    loop.close()


CLEANUP_CHILD = r"""
import gc, json, os, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings.memory"
import django
django.setup()
from collections import OrderedDict
from perfsuite.core import caches
from perfsuite.memory import cleanup
from perfsuite.memory.usage import ProcessMemory

rss = lambda: ProcessMemory().read(uss=False).rss
cache = OrderedDict((i, b"c" * 1000 + str(i).encode()) for i in range(50_000))
caches.register("bench.cache", size=lambda: caches.mapping_size(cache),
                shrink=lambda keep: caches.shrink_mapping(cache, keep))
survivors = []
garbage = [b"g" * 1000 + str(i).encode() for i in range(200_000)]
survivors.extend(garbage[::100])
cycles = [[i] for i in range(200_000)]
for c in cycles:
    c.append(c)  # garbage only a collection frees
del garbage, cycles
before = rss()
start = time.perf_counter()
collected = cleanup.collect()
if {config!r} in ("shrink", "all"):
    cleanup.shrink_caches(0.5)
if {config!r} == "all":
    cleanup.trim()
took = time.perf_counter() - start
print(json.dumps({{"ms": took * 1000, "freed_mb": (before - rss()) / 2**20,
                  "rss_before_mb": before / 2**20, "collected": collected}}))
"""
CLEANUPS = {
    "gc.collect() alone": "gc",
    "gc.collect() + caches shrunk to half": "shrink",
    "cleanup_memory(): gc + shrink + malloc_trim(0)": "all",
}


def cleanup_section() -> None:
    reps = 3 if QUICK else 5
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CLEANUPS}
    names = list(CLEANUPS)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            code = CLEANUP_CHILD.format(root=str(ROOT), config=CLEANUPS[name])
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"## Cleanup after freeing 200 MB of small objects ({reps} fresh processes each)\n")
    print("| cleanup | median ms | RSS before MB | RSS given back MB |")
    print("|---|---|---|---|")
    for name, values in runs.items():
        ms = statistics.median(v["ms"] for v in values)
        before = statistics.median(v["rss_before_mb"] for v in values)
        freed = statistics.median(v["freed_mb"] for v in values)
        print(f"| {name} | {ms:.1f} | {before:.0f} | {freed:.1f} |")
    print()


if __name__ == "__main__":
    if ONLY in (None, "middleware"):
        middleware_section()
    if ONLY in (None, "cleanup"):
        cleanup_section()
