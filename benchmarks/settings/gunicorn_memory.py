"""The demo with ``MEMORY_GC_FREEZE`` from ``BENCH_GC_FREEZE`` (bench_memory_gunicorn)."""

import os

from project.settings import *  # noqa: F403
from project.settings import PERFSUITE as DEMO

PERFSUITE: dict[str, object] = {  # type: ignore[no-redef]
    **DEMO,
    "MEMORY_GC_FREEZE": os.environ.get("BENCH_GC_FREEZE") == "1",
}
ROOT_URLCONF = "benchmarks.settings.gunicorn_memory_urls"
