"""The leak finder: what grew in this process between two ``tracemalloc`` snapshots.

Opt-in (``MEMORY_TRACE``): the middleware's check calls :func:`maybe_snapshot`,
which starts ``tracemalloc`` (``MEMORY_TRACE_FRAMES`` frames) and snapshots once
every ``MEMORY_TRACE_INTERVAL`` seconds. A snapshot is reduced at once to bytes
and blocks per allocating line (per traceback with more frames): that is all that
is kept. The ``MEMORY_TRACE_TOP`` sites that grew most between the last two, with
RSS, allocated blocks and traced memory at both, are the process's
:class:`GrowthReport`, also logged (INFO, ``perfsuite.memory``). They stay in the
process (a site label would be unbounded): ``memory_report`` shows its own, and
``--trace-seconds`` measures a period itself (:func:`measure`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import Any

from perfsuite.core.conf import perf_settings

from .usage import ProcessMemory

logger = logging.getLogger("perfsuite.memory")

_monotonic = time.monotonic
_sleep = time.sleep

#: allocations whose most recent frame is in one of these files are left out
_IMPORTLIB = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
EXCLUDED = frozenset({tracemalloc.__file__, __file__, *_IMPORTLIB, "<unknown>"})

#: allocating line (or traceback) -> (bytes, blocks) at one snapshot
Groups = dict[tracemalloc.Traceback, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class GrowthSite:
    file: str
    line: int
    size_diff: int  # bytes more than at the previous snapshot
    count_diff: int  # blocks more (negative: fewer, larger ones)
    size: int  # bytes held by allocations from here now
    count: int
    traceback: tuple[str, ...]  # "file:line", oldest call first (one entry with 1 frame)

    @property
    def site(self) -> str:
        return f"{self.file}:{self.line}"

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, **asdict(self), "traceback": list(self.traceback)}


@dataclass(frozen=True, slots=True)
class Reading:
    at: float  # epoch seconds
    rss: int  # bytes
    allocated_blocks: int  # sys.getallocatedblocks()
    traced: int  # bytes in every traced block (tracemalloc.get_traced_memory())


@dataclass(frozen=True, slots=True)
class GrowthReport:
    sites: tuple[GrowthSite, ...]
    before: Reading
    after: Reading
    frames: int

    def as_dict(self) -> dict[str, Any]:
        before, after = self.before, self.after
        return {
            "started_at": before.at,
            "ended_at": after.at,
            "seconds": after.at - before.at,
            "frames": self.frames,
            "rss_diff": after.rss - before.rss,
            "allocated_blocks_diff": after.allocated_blocks - before.allocated_blocks,
            "traced_diff": after.traced - before.traced,
            "sites": [site.as_dict() for site in self.sites],
        }


def grouped(snapshot: tracemalloc.Snapshot, frames: int) -> Groups:
    """The snapshot's bytes and blocks per line (``frames`` > 1: per traceback),
    without :data:`EXCLUDED` (filtered after grouping: ``filter_traces`` costs
    several times the grouping itself)."""
    stats = snapshot.statistics("lineno" if frames <= 1 else "traceback")
    return {
        stat.traceback: (stat.size, stat.count)
        for stat in stats
        if stat.traceback[-1].filename not in EXCLUDED
    }


def growth(before: Groups, after: Groups, top: int) -> list[GrowthSite]:
    """The ``top`` sites that grew most from ``before`` to ``after`` (growth only), as
    ``Snapshot.compare_to(before, key_type)`` would rank them."""
    sites = []
    for key, (size, count) in after.items():
        old_size, old_count = before.get(key, (0, 0))
        if size > old_size:
            frame = key[-1]  # the public Traceback lists the oldest call first
            sites.append(
                GrowthSite(
                    file=frame.filename,
                    line=frame.lineno,
                    size_diff=size - old_size,
                    count_diff=count - old_count,
                    size=size,
                    count=count,
                    traceback=tuple(f"{f.filename}:{f.lineno}" for f in key),
                )
            )
    sites.sort(key=lambda s: (-s.size_diff, -s.count_diff, s.site))
    return sites[:top]


class Tracer:
    """The leak finder of one process: its baseline and its latest report."""

    def __init__(self, reader: ProcessMemory | None = None) -> None:
        self.reader = reader or ProcessMemory()
        self._lock = threading.Lock()
        self.started_tracing = False  # whether this tracer called tracemalloc.start()
        self._forget()

    def _forget(self) -> None:
        self._baseline: Groups | None = None
        self._baseline_reading: Reading | None = None
        self._frames = 0
        self._last = -float("inf")
        self.report: GrowthReport | None = None

    def maybe_snapshot(self) -> GrowthReport | None:
        """At a memory check: a snapshot once per ``MEMORY_TRACE_INTERVAL`` while
        ``MEMORY_TRACE`` is on, tracing stopped once it is off. Never raises."""
        try:
            conf = perf_settings.as_dict()
            if not conf.get("MEMORY_TRACE"):
                if self.started_tracing or self._baseline is not None:
                    self.stop()
                return None
            if _monotonic() - self._last < float(conf["MEMORY_TRACE_INTERVAL"]):
                return None
            report = self.snapshot(int(conf["MEMORY_TRACE_FRAMES"]), int(conf["MEMORY_TRACE_TOP"]))
            if report is not None:
                logger.info("memory growth: %s", describe(report))
            return report
        except Exception:  # the leak finder never fails a check
            logger.warning("memory trace snapshot failed", exc_info=True)
            return None

    def snapshot(self, frames: int = 1, top: int = 10) -> GrowthReport | None:
        """Snapshot now (starting tracemalloc with ``frames`` if it is not tracing);
        the growth since the previous snapshot, None for the first (or while another
        thread takes one)."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            self._last = _monotonic()
            usage = self.reader.read(uss=False)  # first: its first call's objects stay
            if self.started_tracing and tracemalloc.get_traceback_limit() != frames:
                tracemalloc.stop()  # ours, with other frames: restart it
            if not tracemalloc.is_tracing():
                tracemalloc.start(frames)
                self.started_tracing = True
                self._baseline = None  # what was allocated untraced is unknown
            limit = tracemalloc.get_traceback_limit()
            if limit != self._frames:
                self._baseline, self._frames = None, limit  # keys of another shape
            groups = grouped(tracemalloc.take_snapshot(), limit)
            reading = Reading(
                time.time(), usage.rss, usage.allocated_blocks, tracemalloc.get_traced_memory()[0]
            )
            report = None
            if self._baseline is not None and self._baseline_reading is not None:
                sites = growth(self._baseline, groups, top)
                report = self.report = GrowthReport(
                    tuple(sites), self._baseline_reading, reading, limit
                )
            self._baseline, self._baseline_reading = groups, reading
            return report
        finally:
            self._lock.release()

    def stop(self) -> None:
        """Forget the baseline and the report; stop tracemalloc if this tracer started it."""
        with self._lock:
            if self.started_tracing and tracemalloc.is_tracing():
                tracemalloc.stop()
            self.started_tracing = False
            self._forget()

    def status(self) -> dict[str, Any]:
        tracing = tracemalloc.is_tracing()
        return {
            "enabled": bool(perf_settings.MEMORY_TRACE),
            "tracing": tracing,
            "overhead_bytes": tracemalloc.get_tracemalloc_memory() if tracing else 0,
            "report": None if self.report is None else self.report.as_dict(),
        }

    def _after_fork(self) -> None:
        # the parent's report is not the child's; the child's next check starts afresh
        self._lock = threading.Lock()
        self._forget()


def describe(report: GrowthReport) -> str:
    """One log line: the period, the three totals and the sites."""
    data = report.as_dict()
    sites = "; ".join(
        f"{s['site']} {s['size_diff']:+d} B ({s['count_diff']:+d} blocks)" for s in data["sites"]
    )
    return (
        f"over {data['seconds']:.0f} s RSS {data['rss_diff']:+d} B, allocated blocks "
        f"{data['allocated_blocks_diff']:+d}, traced {data['traced_diff']:+d} B: {sites or '-'}"
    )


def measure(seconds: float, frames: int = 1, top: int = 10) -> GrowthReport:
    """What grew in this process over ``seconds`` (``memory_report --trace-seconds``):
    tracemalloc runs for that period if nothing else had it running."""
    probe = Tracer(reader=tracer.reader)  # one psutil handle per process
    try:
        probe.snapshot(frames, top)
        _sleep(seconds)
        report = probe.snapshot(frames, top)
    finally:
        probe.stop()
    assert report is not None  # a fresh tracer's second snapshot always compares
    return report


#: this process's leak finder (the middleware's checks feed it)
tracer = Tracer()


def maybe_snapshot() -> GrowthReport | None:
    """The middleware's call at each check (see :meth:`Tracer.maybe_snapshot`)."""
    return tracer.maybe_snapshot()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: tracer._after_fork())
