"""This process's resources through psutil, read when asked, never per request.

Shared by the apps that show process figures (perf_monitor's dashboard, the memory
app): framework-free, re-seeded after a fork (the pid changes). CPU is measured
over the time since the previous reading, and only once that is long enough
(:data:`MIN_CPU_INTERVAL`): the first reading of a process primes psutil and
reports no CPU (a figure over a few microseconds read 3180 % on a 2-core machine).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

#: seconds a CPU figure must span to mean anything
MIN_CPU_INTERVAL = 1.0


_handle: tuple[int, Any] | None = None
_handle_lock = threading.Lock()


def current_process() -> Any:
    """This process's ``psutil.Process``, made once per pid (again after a fork)."""
    global _handle
    pid = os.getpid()
    handle = _handle
    if handle is None or handle[0] != pid:
        import psutil

        with _handle_lock:
            handle = _handle
            if handle is None or handle[0] != pid:
                handle = _handle = (pid, psutil.Process())
    return handle[1]


@dataclass(frozen=True, slots=True)
class ProcessSample:
    rss: int  # bytes
    cpu: float | None  # percent of one core since the previous sample; None: not yet
    start_time: float  # epoch seconds


class ProcessSampler:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._cpu_since = 0.0
        self.cores = os.cpu_count() or 1

    def _current(self) -> Any:
        process = current_process()
        if self._process is not process:  # first use, or a new pid after a fork
            self._process = process
            process.cpu_percent(None)  # primes the counter; measures nothing
            self._cpu_since = time.monotonic()
        return process

    def sample(self, min_cpu_interval: float = MIN_CPU_INTERVAL) -> ProcessSample:
        with self._lock:
            process = self._current()
            now = time.monotonic()
            cpu: float | None = None
            if now - self._cpu_since >= min_cpu_interval:
                cpu = min(max(process.cpu_percent(None), 0.0), 100.0 * self.cores)
                self._cpu_since = now
            return ProcessSample(process.memory_info().rss, cpu, process.create_time())

    def cpu_since_start(self) -> float:
        """Average CPU percent of this process since it started (100 = one core)."""
        with self._lock:
            process = self._current()
            times = process.cpu_times()
            elapsed = max(time.time() - process.create_time(), 1e-3)
        percent = (times.user + times.system) / elapsed * 100
        return min(max(percent, 0.0), 100.0 * self.cores)
