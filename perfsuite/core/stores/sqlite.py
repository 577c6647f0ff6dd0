"""The ``sqlite`` store: every process of one machine adds into one file.

For a site with no Redis (the demo, a one-machine deployment): the web server's
workers and the Celery workers each flush their deltas into the SQLite file at
``SQLITE_PATH`` (WAL mode), so the dashboard sees every process. Each flush is one
``BEGIN IMMEDIATE`` transaction, applied at most once per writer and batch number
(like the Redis store's script). Buckets are the Redis store's: totals, per
minute, per hour, with the same flat fields (``{sid}|c``, ``|n``, ``|p{k}`` ...);
minutes and hours older than ``BUCKET_TTL`` are deleted by the writers.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..conf import perf_settings
from ..series import Batch, MinuteDeltas, SeriesId
from ..sketch import Mapping
from .base import (
    Point,
    Snapshot,
    Store,
    deltas_from_fields,
    minute_now,
    process_name,
    window_seconds,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (sid TEXT PRIMARY KEY, descr TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    kind TEXT NOT NULL, unit INTEGER NOT NULL, field TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (kind, unit, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gauges (
    sid TEXT NOT NULL, process TEXT NOT NULL, value REAL NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (sid, process)
);
CREATE TABLE IF NOT EXISTS applied (writer TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts REAL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_UPSERT = (
    "INSERT INTO cells (kind, unit, field, value) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, unit, field) DO UPDATE SET value = {}"
)
_ADD = _UPSERT.format("value + excluded.value")
_LOW = _UPSERT.format("MIN(value, excluded.value)")
_HIGH = _UPSERT.format("MAX(value, excluded.value)")

#: connections inherited over a fork: never used or closed by the child
_inherited: list[sqlite3.Connection] = []


class SQLiteStore(Store):
    def __init__(
        self,
        mapping: Mapping,
        path: str | Path,
        *,
        bucket_ttl: int = 86400,
        gauge_stale_after: float = 120,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(mapping)
        self.path = Path(path)
        self.bucket_ttl = int(bucket_ttl)
        self.gauge_stale_after = gauge_stale_after
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pruned_minute = 0
        self.writer = f"{process_name()}:{secrets.token_hex(4)}"

    @classmethod
    def from_settings(cls, mapping: Mapping) -> SQLiteStore:
        path = perf_settings.SQLITE_PATH
        if not path:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured("PERFSUITE['STORE'] is 'sqlite' but SQLITE_PATH is not set")
        return cls(
            mapping,
            path,
            bucket_ttl=perf_settings.BUCKET_TTL,
            gauge_stale_after=float(perf_settings.GAUGE_STALE_AFTER),
        )

    # -- connection ----------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def after_fork(self) -> None:
        if self._conn is not None:
            _inherited.append(self._conn)  # the parent's: closing it here could harm it
        self._conn = None
        self._lock = threading.Lock()
        self.writer = f"{process_name()}:{secrets.token_hex(4)}"

    # -- writing -------------------------------------------------------
    def write(self, batch: Batch) -> None:
        writer = batch.writer or self.writer
        adds: list[tuple[str, int, str, float]] = []
        lows: list[tuple[str, int, str, float]] = []
        highs: list[tuple[str, int, str, float]] = []
        series: dict[str, str] = {}
        for minute in sorted(batch.minutes):
            units = (("t", 0), ("m", minute), ("h", minute // 60))
            deltas = batch.minutes[minute]
            for key, value in deltas.counters.items():
                series[key.sid] = key.encode()
                adds.extend((kind, unit, f"{key.sid}|c", value) for kind, unit in units)
            for key, hist in deltas.histograms.items():
                if not hist.count:
                    continue
                sid = key.sid
                series[sid] = key.encode()
                fields = {"n": hist.count, "s": hist.sum, **hist.bucket_fields()}
                for kind, unit in units:
                    adds.extend((kind, unit, f"{sid}|{f}", v) for f, v in fields.items())
                    lows.append((kind, unit, f"{sid}|lo", hist.min))
                    highs.append((kind, unit, f"{sid}|hi", hist.max))
        gauges = []
        for key, (value, ts) in batch.gauges.items():
            series[key.sid] = key.encode()
            gauges.append((key.sid, process_name(), value, ts))
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT seq FROM applied WHERE writer = ?", (writer,)).fetchone()
                if row is not None and row[0] >= batch.seq:
                    conn.execute("ROLLBACK")
                    return
                conn.execute(
                    "INSERT OR REPLACE INTO applied (writer, seq, ts) VALUES (?, ?, ?)",
                    (writer, batch.seq, time.time()),
                )
                conn.executemany("INSERT OR IGNORE INTO series VALUES (?, ?)", series.items())
                conn.executemany(_ADD, adds)
                conn.executemany(_LOW, lows)
                conn.executemany(_HIGH, highs)
                conn.executemany("INSERT OR REPLACE INTO gauges VALUES (?, ?, ?, ?)", gauges)
                self._prune(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Drop buckets older than ``BUCKET_TTL``, at most once a minute per writer."""
        now_minute = minute_now()
        if now_minute == self._pruned_minute:
            return
        self._pruned_minute = now_minute
        oldest = now_minute - self.bucket_ttl // 60
        conn.execute(
            "DELETE FROM cells WHERE (kind = 'm' AND unit < ?) OR (kind = 'h' AND unit < ?)",
            (oldest, oldest // 60 - 1),
        )
        conn.execute("DELETE FROM applied WHERE ts < ?", (time.time() - 86400,))

    # -- reading -------------------------------------------------------
    def _cells(self, conn: sqlite3.Connection, kind: str, first: int, last: int) -> Iterator[Any]:
        return conn.execute(
            "SELECT unit, field, value FROM cells WHERE kind = ? AND unit BETWEEN ? AND ?",
            (kind, first, last),
        )

    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        seconds = window_seconds(window)
        now = time.time()
        now_minute = minute_now(now)
        hour = now_minute // 60
        if seconds is None:
            scope = ("t", 0, 0)
        elif seconds <= 3600:
            scope = ("m", now_minute - seconds // 60 + 1, now_minute)
        else:
            scope = ("h", hour - seconds // 3600 + 1, hour)
        if seconds is not None and seconds > 3600:
            point_scope, step = ("h", hour - 23, hour), 3600
        else:
            point_scope, step = ("m", now_minute - 59, now_minute), 60
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                series_rows = conn.execute("SELECT sid, descr FROM series").fetchall()
                cells = [(f, v) for _u, f, v in self._cells(conn, *scope)]
                point_cells = list(self._cells(conn, *point_scope)) if points else []
                gauge_rows = conn.execute("SELECT sid, process, value, ts FROM gauges").fetchall()
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            finally:
                conn.execute("COMMIT")
            if any(now - ts > self.gauge_stale_after for *_rest, ts in gauge_rows):
                conn.execute("DELETE FROM gauges WHERE ts < ?", (now - self.gauge_stale_after,))
        series = {sid: SeriesId.decode(descr) for sid, descr in series_rows}
        snap = Snapshot(window=window, mapping=self.mapping, generated_at=now)
        merged: MinuteDeltas = deltas_from_fields(cells, series)
        snap.counters = merged.counters
        snap.histograms = merged.histograms
        if points:
            by_unit: dict[int, list[tuple[str, float]]] = {}
            for unit, name, value in point_cells:
                by_unit.setdefault(unit, []).append((name, value))
            for unit in range(point_scope[1], point_scope[2] + 1):
                deltas = deltas_from_fields(by_unit.get(unit, ()), series)
                snap.points.append(
                    Point(start=unit * step, counters=deltas.counters, histograms=deltas.histograms)
                )
        processes: set[str] = set()
        for sid, process, value, ts in gauge_rows:
            gauge = series.get(sid)
            if gauge is not None and now - ts <= self.gauge_stale_after:
                snap.gauges.setdefault(gauge, {})[process] = float(value)
                processes.add(process)
        snap.meta = {
            "store": "sqlite",
            "processes": len(processes),
            "reset_at": float(meta["reset_at"]) if "reset_at" in meta else None,
        }
        return snap

    def reset(self) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            for table in ("series", "cells", "gauges", "applied", "meta"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("INSERT INTO meta VALUES ('reset_at', ?)", (repr(time.time()),))
            conn.execute("COMMIT")
