"""The demo product page (50 cards from SQLite): rendered vs served from the cache.

.venv/bin/python benchmarks/bench_cache_demo.py [--quick]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

from common import environ, side_by_side, table

QUICK = "--quick" in sys.argv
N = 200 if QUICK else 500
REPS = 5 if QUICK else 7

var = tempfile.mkdtemp(prefix="perfsuite-bench-")
os.environ["PERFSUITE_VAR_DIR"] = var
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings.http"
import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402


def run(handler: WSGIHandler, exclude: bool) -> float:
    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        assert status.startswith("200"), status

    paths = ["/"] if exclude else ["/admin/"]
    with override_settings(PERFSUITE={"CACHE_EXCLUDE_PATHS": paths}):
        start = time.perf_counter()
        for _ in range(N):
            result = handler(environ("/products/", "page=2"), start_response)
            for _chunk in result:
                pass
            result.close()
        return (time.perf_counter() - start) / N


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", products=2000, users=5, posts=10, verbosity=0)
    handler = WSGIHandler()
    run(handler, exclude=False)
    results = side_by_side(
        {
            "rendered (cache bypassed)": lambda: run(handler, exclude=True),
            "perfsuite cache hit": lambda: run(handler, exclude=False),
        },
        REPS,
    )
    print(
        table(
            "Demo /products/?page=2, 50 cards, SQLite, full demo middleware",
            results,
            "rendered (cache bypassed)",
        )
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(var, ignore_errors=True)
