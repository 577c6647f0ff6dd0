"""Collect-time work: compress files in parallel and record the index file.

Used by the storage backend (``collectstatic``) and ``manage.py compress_static``.
Every compressible file of at least ``min_size`` bytes gets a ``.zst``, ``.br``
and ``.gz`` sibling, each kept only when smaller than ``max_ratio`` of the
original (a stale sibling from an earlier run is removed). Files are hashed first
and grouped by content, so identical files (a manifest's original and hashed
copies, mostly) are compressed once.
Threads are enough: zlib, brotli and zstd release the GIL.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from . import compress as codecs
from .assets import Asset, etag_of, new_hasher
from .index import path_of, to_record

logger = logging.getLogger("perfsuite.static_opt")

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    files: int = 0
    compressed: int = 0
    reused: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)
    original_bytes: int = 0
    smallest_bytes: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Job:
    name: str
    hashed: bool
    size: int


@dataclass
class _Member:
    job: _Job
    asset: Asset
    st: os.stat_result
    worth: bool
    etag: str


_Result = tuple[str, list[Any], list[str], int, "tuple[int, int] | None"]


class Builder:
    def __init__(
        self,
        root: str,
        *,
        encodings: Iterable[str] = codecs.KNOWN,
        min_size: int = 1024,
        max_ratio: float = 0.95,
        workers: int | None = None,
        force: bool = True,
    ) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.encodings = tuple(e for e in encodings if e in codecs.available())
        self.min_size = min_size
        self.max_ratio = max_ratio
        self.workers = workers or os.cpu_count() or 1
        self.force = force

    def run(
        self, names: Iterable[tuple[str, bool]], progress: Progress | None = None
    ) -> tuple[dict[str, list[Any]], BuildReport]:
        """Compress and describe every ``(name, hashed)``; returns index records."""
        start = time.perf_counter()
        report = BuildReport()
        jobs = []
        for name, hashed in names:
            path = path_of(self.root, name)
            try:
                if not os.path.realpath(path).startswith(self.real_root + os.sep):
                    report.skipped.append(name)
                    continue
                jobs.append(_Job(name, hashed, os.stat(path).st_size))
            except OSError:
                report.skipped.append(name)
        records: dict[str, list[Any]] = {}
        total, done = len(jobs), 0
        if progress is not None:
            progress(0, total)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            # Phase 1: hash every file; group the compressible ones by content.
            groups: dict[str, list[_Member]] = {}
            for future in as_completed([pool.submit(self._identify, job) for job in jobs]):
                member = future.result()
                if member.worth:
                    groups.setdefault(member.etag, []).append(member)
                    continue
                records[member.job.name] = to_record(member.asset, ())
                done += 1
                if progress is not None:
                    progress(done, total)
            # Phase 2: compress each distinct content once, largest first.
            ordered = sorted(groups.values(), key=lambda g: g[0].job.size, reverse=True)
            futures = [pool.submit(self._compress_group, group) for group in ordered]
            for compressed in as_completed(futures):
                for name, record, written, reused, sizes in compressed.result():
                    records[name] = record
                    report.written.extend((name, variant) for variant in written)
                    report.reused += reused
                    if sizes is not None:
                        report.compressed += 1
                        report.original_bytes += sizes[0]
                        report.smallest_bytes += sizes[1]
                    done += 1
                    if progress is not None:
                        progress(done, total)
        report.files = len(records)
        report.seconds = time.perf_counter() - start
        return records, report

    # -- one file ----------------------------------------------------------
    def _identify(self, job: _Job) -> _Member:
        path = path_of(self.root, job.name)
        asset = Asset(job.name, path, hashed=job.hashed)
        asset.classify()
        st = os.stat(path)
        worth = bool(asset.compressible and st.st_size >= self.min_size and self.encodings)
        etag = _hash_file(path)
        asset.set_identity(st.st_size, int(st.st_mtime), etag)
        return _Member(job, asset, st, worth, etag)

    def _compress_group(self, group: list[_Member]) -> list[_Result]:
        first = group[0]
        with open(first.asset.path, "rb") as f:
            data = f.read()
        outputs: dict[str, bytes] = {}
        if not self.force:
            outputs = self._reuse(first.asset.path, first.st)
        if not outputs:
            outputs = {encoding: codecs.compress(encoding, data) for encoding in self.encodings}
        etags = {encoding: etag_of(out) for encoding, out in outputs.items()}
        results = []
        sources: dict[str, str] = {}
        for member in group:
            reused = not self.force and bool(self._reuse(member.asset.path, member.st))
            results.append(self._variants(member, len(data), outputs, etags, reused, sources))
        return results

    def _variants(
        self,
        member: _Member,
        size: int,
        outputs: dict[str, bytes],
        etags: dict[str, str],
        reused: bool,
        sources: dict[str, str],
    ) -> _Result:
        """Write (or hard-link, for a copy of content already written) one file's variants."""
        asset, path = member.asset, member.asset.path
        written = []
        smallest = size
        for encoding in self.encodings:
            vpath = path + codecs.SUFFIXES[encoding]
            out = outputs.get(encoding)
            if out is None or not codecs.worth_it(size, len(out), self.max_ratio):
                _remove(vpath)
                continue
            if not reused:
                # A new file costs far more than a link on most file systems.
                source = sources.get(encoding)
                if source is None or not _link(source, vpath):
                    _write(vpath, out)
                sources.setdefault(encoding, vpath)
                written.append(member.job.name + codecs.SUFFIXES[encoding])
            asset.add_variant(encoding, vpath, len(out), etags[encoding])
            smallest = min(smallest, len(out))
        sizes = (size, smallest) if len(asset.variants) > 1 else None
        record = to_record(asset, self.encodings)
        return member.job.name, record, written, int(reused), sizes

    def _reuse(self, path: str, st: os.stat_result) -> dict[str, bytes]:
        """Variants left by an earlier run that are newer than the file (no --force)."""
        found = {}
        for encoding in self.encodings:
            vpath = path + codecs.SUFFIXES[encoding]
            try:
                if os.stat(vpath).st_mtime_ns < st.st_mtime_ns:
                    return {}
                with open(vpath, "rb") as f:
                    found[encoding] = f.read()
            except OSError:
                return {}
        return found


def _hash_file(path: str) -> str:
    hasher = new_hasher()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            hasher.update(chunk)
    return '"' + hasher.hexdigest() + '"'


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _link(source: str, path: str) -> bool:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        os.link(source, tmp)
        os.replace(tmp, path)
    except OSError:
        _remove(tmp)
        return False
    return True


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
