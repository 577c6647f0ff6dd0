"""This process's memory, read when asked (a check, a cleanup), never per request.

One reading costs about 10 µs for RSS and VMS and about 0.2 ms with USS (psutil's
``memory_full_info`` reads ``/proc/<pid>/smaps_rollup``), plus the cgroup files:
the middleware reads it once per check, after the response.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfsuite.core.process import current_process

from . import cgroups

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MemoryReading:
    rss: int  # bytes
    vms: int  # bytes
    uss: int | None  # bytes of memory only this process holds; None: not readable
    percent: float  # RSS against the container limit, else against the host's RAM
    allocated_blocks: int  # sys.getallocatedblocks(): Python objects' blocks
    container_limit: int | None  # bytes; None: no limit
    container_usage: int | None  # bytes; None: no cgroup

    def as_dict(self, tracked_objects: int) -> dict[str, Any]:
        """The guide's keys (MB) and this suite's additions."""
        return {
            "rss_mb": self.rss / MB,
            "vms_mb": self.vms / MB,
            "percent": self.percent,
            "tracked_objects": tracked_objects,
            "uss_mb": None if self.uss is None else self.uss / MB,
            "allocated_blocks": self.allocated_blocks,
            "container_limit_mb": _mb(self.container_limit),
            "container_usage_mb": _mb(self.container_usage),
        }


def _mb(value: int | None) -> float | None:
    return None if value is None else value / MB


class ProcessMemory:
    """Reads :class:`MemoryReading` for the current process (a new pid after a fork)."""

    def __init__(
        self,
        cgroup_root: str | Path = cgroups.ROOT,
        proc_cgroup: str | Path = cgroups.PROC_SELF_CGROUP,
    ) -> None:
        self.cgroup_root = cgroup_root
        self.proc_cgroup = proc_cgroup
        self._process: Any = None
        self._uss_denied = False

    def _current(self) -> Any:
        process = current_process()
        if self._process is not process:  # first use, or a new pid after a fork
            self._process = process
            self._uss_denied = False
        return process

    def read(self, uss: bool = True) -> MemoryReading:
        import psutil

        process = self._current()
        info = process.memory_info()
        unique: int | None = None
        if uss and not self._uss_denied:
            try:
                unique = getattr(process.memory_full_info(), "uss", None)
            except psutil.AccessDenied:
                self._uss_denied = True  # it stays denied: do not pay for it again
        container = cgroups.read(self.cgroup_root, self.proc_cgroup)
        if container.limit:
            percent = info.rss / container.limit * 100
        else:
            percent = float(process.memory_percent())
        return MemoryReading(
            rss=info.rss,
            vms=info.vms,
            uss=unique,
            percent=percent,
            allocated_blocks=sys.getallocatedblocks(),
            container_limit=container.limit,
            container_usage=container.usage,
        )
