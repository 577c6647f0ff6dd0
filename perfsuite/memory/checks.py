"""Checks of the memory app (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning

from perfsuite.core.conf import perf_settings

from . import cgroups
from .usage import MB


def _memory_limit() -> tuple[int, str]:
    """The memory this process can have at most (bytes), and what sets it."""
    limit = cgroups.read().limit
    if limit is not None:
        return limit, "the container's memory limit"
    import psutil

    return int(psutil.virtual_memory().total), "this machine's memory"


def check_threshold(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    threshold = perf_settings.MEMORY_THRESHOLD_MB
    if threshold is None:
        return []
    limit, what = _memory_limit()
    if threshold * MB < limit:
        return []
    return [
        Warning(
            f"PERFSUITE['MEMORY_THRESHOLD_MB'] is {threshold:g} MB, not below {what} "
            f"({limit / MB:.0f} MB): a process is killed for lack of memory before it "
            "ever cleans up.",
            hint="Set it well below the limit (divided by the workers per container), "
            "or set it to None and use MEMORY_THRESHOLD_PERCENT.",
            id="perfsuite.W801",
        )
    ]


CHECKS = (check_threshold,)
