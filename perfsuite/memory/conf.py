"""``PERFSUITE`` keys of memory (documented in docs/memory.md)."""

from __future__ import annotations

from typing import Any

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import (
    boolean,
    non_negative_number,
    optional,
    positive_int,
    positive_number,
    ratio,
)


def _percent(value: Any) -> str | None:
    if positive_number(value) is not None or value > 100:
        return "must be a number in (0, 100]"
    return None


def _jitter(value: Any) -> str | None:
    if non_negative_number(value) is not None or value >= 1:
        return "must be a number in [0, 1)"
    return None


register_defaults(
    {
        "MEMORY_ENABLED": Option(
            True, boolean, "Check memory from MemoryMiddleware (False: the middleware is unused)."
        ),
        "MEMORY_CHECK_EVERY_REQUESTS": Option(
            1000,
            positive_int,
            "Requests a process serves between two memory checks (at least).",
        ),
        "MEMORY_CHECK_INTERVAL": Option(
            30.0,
            non_negative_number,
            "Seconds between two memory checks of a process (at least; 0: requests only).",
        ),
        "MEMORY_THRESHOLD_MB": Option(
            None,
            optional(positive_number),
            "Clean up when the process's RSS exceeds this many MB (None: use the percent).",
        ),
        "MEMORY_THRESHOLD_PERCENT": Option(
            80.0,
            _percent,
            "Clean up when RSS exceeds this percent of the container limit (else of RAM).",
        ),
        "MEMORY_CLEANUP_COOLDOWN": Option(
            60.0,
            non_negative_number,
            "Seconds after a cleanup before a process cleans up again.",
        ),
        "MEMORY_CACHE_KEEP": Option(
            0.5,
            ratio,
            "Fraction of each registered clearable cache a cleanup keeps (most recent).",
        ),
        "MEMORY_RECYCLE_RSS_MB": Option(
            None,
            optional(positive_number),
            "Retire a gunicorn worker left above this RSS (MB) by a request (None: off).",
        ),
        "MEMORY_RECYCLE_JITTER": Option(
            0.1,
            _jitter,
            "Each worker draws its recycle limit in [limit * (1 - jitter), limit].",
        ),
        "MEMORY_GC_FREEZE": Option(
            True,
            boolean,
            "gc.freeze() in the gunicorn master before each fork (useful with preload_app).",
        ),
        "MEMORY_TRACE": Option(
            False,
            boolean,
            "Run the leak finder: tracemalloc snapshots from the middleware's checks.",
        ),
        "MEMORY_TRACE_INTERVAL": Option(
            60.0,
            positive_number,
            "Seconds between two tracemalloc snapshots of a process (at its next check).",
        ),
        "MEMORY_TRACE_FRAMES": Option(
            1,
            positive_int,
            "Frames tracemalloc keeps per allocation (1: the allocating line only).",
        ),
        "MEMORY_TRACE_TOP": Option(
            10,
            positive_int,
            "Growth sites a process keeps from its last two snapshots.",
        ),
    }
)
