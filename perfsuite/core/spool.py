"""A per-process journal of the observations not yet in the store, that outlives a SIGKILL.

A worker killed with SIGKILL (gunicorn's timeout, the kernel's OOM killer) takes
the deltas it recorded since its last flush with it. With the Redis store each
process therefore also writes every counter increment and histogram observation
as a 12-byte record into a memory-mapped file (``SPOOL_DIR``, one file per
process, about 100 ns a record). The kernel keeps a killed process's writes to a
shared mapping, so the journal survives it; a surviving process of the same
machine (or the worker started in its place) finds the journal of a dead
process, sends what it holds to the store under the dead process's writer id and
batch numbers, and removes it. The Redis store applies each (writer, number) at
most once, so a batch the dead process had sent just before dying is never
counted twice. Totals stay exact.

Layout: a 64-byte header, then two regions. Records go to the active region; a
drain (the start of a flush) switches regions and notes which batch number the
closed region holds; once the store has applied that batch, its region is
zeroed. A record's slot is 1 + the series' line in ``<file>.series`` (0 ends a
region). A region that fills up before the next drain stops journaling (counted
in the header) until then.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import mmap
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .series import COUNTER, Batch, MinuteDeltas, SeriesId
from .sketch import HistData, Mapping

logger = logging.getLogger("perfsuite.metrics")

MAGIC = b"PSSPOOL1"
#: magic, pid, process start (clock ticks), active region, in-flight batch number,
#: its region + 1 (0: none), last applied batch number, records not journaled
HEADER = struct.Struct("<8sQQQQQQQ")
HEADER_SIZE = HEADER.size
RECORD = struct.Struct("<Id")
REGION_BYTES = 2 * 1024 * 1024
SUFFIX = ".spool"


def spool_directory(url: str, prefix: str) -> str:
    """``SPOOL_DIR``, else a folder per store under /dev/shm (memory) or the temp dir."""
    from .conf import perf_settings

    configured = perf_settings.SPOOL_DIR
    if configured:
        return str(configured)
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    digest = hashlib.sha256(f"{url}|{prefix}".encode()).hexdigest()[:12]
    return os.path.join(base, f"perfsuite-spool-{digest}")


def store_prefix(store: Any) -> str:
    return str(getattr(store, "prefix", ""))


def _start_ticks(pid: int) -> int:
    """The process's start time in clock ticks (``/proc``); 0 where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def _alive(pid: int, ticks: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not ticks or _start_ticks(pid) in (0, ticks)  # same pid, same process


class Spool:
    """The journal of this process (create one per process, after any fork)."""

    def __init__(self, directory: str, writer: str) -> None:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in writer)
        self.path = os.path.join(directory, safe + SUFFIX)
        self.writer = writer
        size = HEADER_SIZE + 2 * REGION_BYTES
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(fd, size)
            self.mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self._series_fd = os.open(
            self.path + ".series", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600
        )
        os.write(self._series_fd, f"W\t{writer}\n".encode())
        self.slots: dict[SeriesId, int] = {}
        self.clean = [True, True]
        self.active = 0
        self.pos = HEADER_SIZE
        self.last = HEADER_SIZE + REGION_BYTES - RECORD.size
        self.missed = 0
        self._pid = os.getpid()
        self._header(0, 0, 0)

    def _header(self, inflight: int, region_plus_one: int, applied: int) -> None:
        HEADER.pack_into(
            self.mm, 0, MAGIC, self._pid, _start_ticks(self._pid), self.active,
            inflight, region_plus_one, applied, self.missed,
        )  # fmt: skip

    # -- the hot path (under the registry's lock) -----------------------
    def record(self, key: SeriesId, value: float) -> None:
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = len(self.slots) + 1
            os.write(self._series_fd, f"{slot}\t{key.encode()}\n".encode())
        pos = self.pos
        if pos > self.last:
            self.missed += 1
            return
        RECORD.pack_into(self.mm, pos, slot, value)
        self.pos = pos + RECORD.size
        self.clean[self.active] = False

    # -- the flusher's protocol ------------------------------------------
    def swap(self, seq: int, applied: int) -> None:
        """At a drain (under the registry's lock): the active region now holds batch
        ``seq``; records go to the other region from here on."""
        closed, target = self.active, 1 - self.active
        if not self.clean[target]:
            self._zero(target)  # a batch discarded without being applied (a reset)
        self.active = target
        self.pos = HEADER_SIZE + target * REGION_BYTES
        self.last = self.pos + REGION_BYTES - RECORD.size
        self._header(seq, closed + 1, applied)

    def applied(self, seq: int) -> None:
        """The store applied batch ``seq``: its region is no longer needed."""
        closed = 1 - self.active
        self._header(0, 0, seq)
        self._zero(closed)

    def _zero(self, region: int) -> None:
        start = HEADER_SIZE + region * REGION_BYTES
        self.mm[start : start + REGION_BYTES] = bytes(REGION_BYTES)
        self.clean[region] = True

    def remove(self) -> None:
        """Delete the journal (the process exits with everything sent)."""
        self.close()
        for path in (self.path, self.path + ".series"):
            with contextlib.suppress(OSError):
                os.unlink(path)

    def close(self) -> None:
        """Unmap without deleting (a forked child leaves its parent's journal alone)."""
        with contextlib.suppress(Exception):
            self.mm.close()
        with contextlib.suppress(OSError):
            os.close(self._series_fd)


def recover(
    directory: str,
    own_path: str | None,
    mapping: Mapping,
    write: Callable[[Batch], None],
    minute: int,
) -> int:
    """Send the journals of dead processes in ``directory`` to the store; return the
    number of observations recovered. A journal another process is recovering, or
    whose process is alive, is left alone; one the store refuses is kept."""
    recovered = 0
    try:
        names = [e.path for e in os.scandir(directory) if e.name.endswith(SUFFIX)]
    except OSError:
        return 0
    for path in names:
        if path == own_path:
            continue
        try:
            recovered += _recover_one(path, mapping, write, minute)
        except Exception:
            logger.warning("perfsuite could not recover metrics journal %s", path, exc_info=True)
    return recovered


def _recover_one(path: str, mapping: Mapping, write: Callable[[Batch], None], minute: int) -> int:
    with open(path, "r+b") as handle:
        raw = handle.read(HEADER_SIZE)
        if len(raw) < HEADER_SIZE or raw[:8] != MAGIC:
            return 0
        _m, pid, ticks, active, inflight, region_plus_one, applied, missed = HEADER.unpack_from(raw)
        if _alive(pid, ticks):
            return 0
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # another survivor is at it
        writer, series = _read_series(path + ".series")
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            batches = []
            if region_plus_one and inflight > applied:
                batches.append((inflight, region_plus_one - 1))
            batches.append((max(inflight, applied) + 1, active))
            total = 0
            for seq, region in batches:
                deltas, count = _replay(data, region, series, mapping)
                if count:
                    write(Batch(minutes={minute: deltas}, seq=seq, writer=writer))
                    total += count
        finally:
            data.close()
    for leftover in (path, path + ".series"):
        with contextlib.suppress(OSError):
            os.unlink(leftover)
    if missed:
        logger.warning("perfsuite: %d observations of a killed process were not journaled", missed)
    return total


def _read_series(path: str) -> tuple[str, dict[int, SeriesId]]:
    writer = ""
    series: dict[int, SeriesId] = {}
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as lines:
        for line in lines:
            tag, _, rest = line.rstrip("\n").partition("\t")
            if tag == "W":
                writer = rest
            elif tag.isdigit() and rest:
                series[int(tag)] = SeriesId.decode(rest)
    return writer, series


def _replay(
    data: Any, region: int, series: dict[int, SeriesId], mapping: Mapping
) -> tuple[MinuteDeltas, int]:
    deltas = MinuteDeltas()
    count = 0
    start = HEADER_SIZE + region * REGION_BYTES
    for pos in range(start, start + REGION_BYTES - RECORD.size + 1, RECORD.size):
        slot, value = RECORD.unpack_from(data, pos)
        if slot == 0:
            break
        key = series.get(slot)
        if key is None:
            continue
        count += 1
        if key.kind == COUNTER:
            deltas.counters[key] = deltas.counters.get(key, 0) + value
        else:
            hist = deltas.histograms.get(key)
            if hist is None:
                hist = deltas.histograms[key] = HistData()
            hist.add(value, mapping)
    return deltas, count
