"""The ``local`` store: this process only (runserver, tests, single-process servers).

Keeps totals since reset, the last hour per minute and the last 25 hours per
hour, so memory is bounded by series x (60 + 25) whatever the uptime.
"""

from __future__ import annotations

import threading
import time

from ..series import Batch, MinuteDeltas, SeriesId
from ..sketch import HistData, Mapping
from .base import Point, Snapshot, Store, minute_now, process_name, window_seconds

KEEP_MINUTES = 60
KEEP_HOURS = 25


class LocalStore(Store):
    def __init__(self, mapping: Mapping) -> None:
        super().__init__(mapping)
        self._lock = threading.Lock()
        self.started_at = time.time()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self._totals = MinuteDeltas()
            self._minutes: dict[int, MinuteDeltas] = {}
            self._hours: dict[int, MinuteDeltas] = {}
            self._gauges: dict[SeriesId, tuple[float, float]] = {}
            self.reset_at = time.time()

    def write(self, batch: Batch) -> None:
        with self._lock:
            for minute, deltas in batch.minutes.items():
                self._totals.merge(deltas, copy=True)
                self._minutes.setdefault(minute, MinuteDeltas()).merge(deltas, copy=True)
                self._hours.setdefault(minute // 60, MinuteDeltas()).merge(deltas, copy=True)
            self._gauges.update(batch.gauges)
            now_minute = minute_now()
            for minute in [m for m in self._minutes if m <= now_minute - KEEP_MINUTES]:
                del self._minutes[minute]
            for hour in [h for h in self._hours if h <= now_minute // 60 - KEEP_HOURS]:
                del self._hours[hour]

    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        seconds = window_seconds(window)
        now_minute = minute_now()
        snap = Snapshot(window=window, mapping=self.mapping)
        with self._lock:
            if seconds is None:
                parts = [self._totals]
            elif seconds <= KEEP_MINUTES * 60:
                first = now_minute - seconds // 60 + 1
                parts = [d for m, d in self._minutes.items() if m >= first]
            else:
                first_hour = now_minute // 60 - seconds // 3600 + 1
                parts = [d for h, d in self._hours.items() if h >= first_hour]
            merged = MinuteDeltas()
            for part in parts:
                merged.merge(part, copy=True)
            snap.counters = merged.counters
            snap.histograms = merged.histograms
            snap.gauges = {
                key: {process_name(): value} for key, (value, _ts) in self._gauges.items()
            }
            if points:
                if seconds is not None and seconds > KEEP_MINUTES * 60:
                    source, step, span = self._hours, 3600, now_minute // 60
                else:
                    source, step, span = self._minutes, 60, now_minute
                for unit in range(span - 59 if step == 60 else span - 23, span + 1):
                    deltas = source.get(unit)
                    point = Point(start=unit * step)
                    if deltas is not None:
                        point.counters = dict(deltas.counters)
                        point.histograms = {k: h.copy() for k, h in deltas.histograms.items()}
                    snap.points.append(point)
        snap.meta = {"store": "local", "processes": 1, "reset_at": self.reset_at}
        return snap


__all__ = ["HistData", "LocalStore"]
