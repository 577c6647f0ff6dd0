"""The store contract and the snapshot every reader gets."""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..series import COUNTER, GAUGE, HISTOGRAM, Batch, MinuteDeltas, SeriesId
from ..sketch import HistData, Mapping

#: window name -> seconds (None: since the last reset)
WINDOWS: dict[str, int | None] = {"5m": 300, "1h": 3600, "24h": 86400, "all": None}


def window_seconds(window: str) -> int | None:
    try:
        return WINDOWS[window]
    except KeyError:
        raise ValueError(f"unknown window {window!r}; choose one of {', '.join(WINDOWS)}") from None


@dataclass
class SeriesStats:
    """Per-series figures of a snapshot."""

    series: SeriesId
    count: int = 0
    sum: float = 0.0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    value: float | None = None  # counters and gauges

    @property
    def name(self) -> str:
        return self.series.name

    @property
    def labels(self) -> dict[str, str]:
        return self.series.label_dict

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.series.kind, "labels": self.labels}
        if self.series.kind == HISTOGRAM:
            data.update(
                count=self.count,
                sum=self.sum,
                min=self.min,
                max=self.max,
                mean=self.mean,
                p50=self.p50,
                p95=self.p95,
                p99=self.p99,
            )
        else:
            data["value"] = self.value
        return data


@dataclass
class Point:
    """One minute (or hour, for the 24 h window) of a chart."""

    start: int  # epoch seconds
    counters: dict[SeriesId, float] = field(default_factory=dict)
    histograms: dict[SeriesId, HistData] = field(default_factory=dict)


@dataclass
class Snapshot:
    """Everything a reader needs for one window, merged over every writer."""

    window: str
    mapping: Mapping
    generated_at: float = field(default_factory=time.time)
    counters: dict[SeriesId, float] = field(default_factory=dict)
    histograms: dict[SeriesId, HistData] = field(default_factory=dict)
    #: gauge series -> {process ("host:pid") -> its latest value}: gauges are per process
    gauges: dict[SeriesId, dict[str, float]] = field(default_factory=dict)
    points: list[Point] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def stats(self, series: SeriesId) -> SeriesStats:
        if series.kind == HISTOGRAM:
            hist = self.histograms.get(series) or HistData()
            figures = hist.stats(self.mapping)
            return SeriesStats(series, **figures)  # type: ignore[arg-type]
        if series.kind == COUNTER:
            return SeriesStats(series, value=self.counters.get(series, 0))
        values = self.gauges.get(series, {})
        return SeriesStats(series, value=sum(values.values()) if values else None)

    def series(self, name: str | None = None, kind: str | None = None) -> list[SeriesStats]:
        """Stats of every series (of one metric name / kind), in a stable order."""
        keys: list[SeriesId] = [*self.counters, *self.histograms, *self.gauges]
        chosen = [
            key
            for key in keys
            if (name is None or key.name == name) and (kind is None or key.kind == kind)
        ]
        return [self.stats(key) for key in sorted(set(chosen))]

    def counter_total(self, name: str, **labels: str) -> float:
        return sum(
            value
            for key, value in self.counters.items()
            if key.name == name and _matches(key, labels)
        )

    def histogram(self, name: str, **labels: str) -> HistData:
        """All series of a histogram whose labels match, merged."""
        return HistData.merged(
            hist
            for key, hist in self.histograms.items()
            if key.name == name and _matches(key, labels)
        )

    def gauge_values(self, name: str, **labels: str) -> list[float]:
        """The value of every live process (and label set) of a gauge."""
        out: list[float] = []
        for key, values in self.gauges.items():
            if key.name == name and _matches(key, labels):
                out.extend(values.values())
        return out

    def gauge_by_process(self, name: str, **labels: str) -> dict[str, float]:
        """Process -> value of a gauge, summed over its matching label sets."""
        out: dict[str, float] = {}
        for key, values in self.gauges.items():
            if key.name == name and _matches(key, labels):
                for process, value in values.items():
                    out[process] = out.get(process, 0.0) + value
        return out


def deltas_from_fields(
    fields: Iterable[tuple[str, Any]], series: dict[str, SeriesId]
) -> MinuteDeltas:
    """One bucket stored as flat fields (``{sid}|c``, ``|n``, ``|s``, ``|lo``, ``|hi``,
    ``|p{k}``, ``|n{k}``, ``|z``) back as deltas; ``series`` maps sid -> SeriesId.
    The shared reading of the Redis and SQLite stores."""
    deltas = MinuteDeltas()
    hists: dict[str, HistData] = {}
    for name, value in fields:
        sid, _, part = name.partition("|")
        key = series.get(sid)
        if key is None:
            continue
        if part == "c":
            deltas.counters[key] = deltas.counters.get(key, 0) + float(value)
            continue
        hist = hists.get(sid)
        if hist is None:
            hist = hists[sid] = deltas.histograms[key] = HistData()
        if part == "n":
            hist.count += int(value)
        elif part == "s":
            hist.sum += float(value)
        elif part == "lo":
            hist.min = min(hist.min, float(value))
        elif part == "hi":
            hist.max = max(hist.max, float(value))
        else:
            hist.add_bucket_field(part, int(value))
    return deltas


def _matches(key: SeriesId, labels: dict[str, str]) -> bool:
    if not labels:
        return True
    mine = key.label_dict
    return all(mine.get(k) == v for k, v in labels.items())


class Store:
    """Base class of metric stores.

    ``write`` receives a :class:`~perfsuite.core.series.Batch` from one process's
    flusher and may raise on failure (the registry keeps the batch and retries it
    with the same id). ``snapshot`` merges everything written over a window.
    """

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping

    def write(self, batch: Batch) -> None:
        raise NotImplementedError

    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (settings changed, process exit)."""

    def after_fork(self) -> None:
        """Drop connections inherited from the parent process."""


def process_name() -> str:
    """This process as gauges name it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def minute_now(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // 60)


def minutes_in_window(seconds: int, now: float | None = None) -> list[int]:
    current = minute_now(now)
    count = max(1, math.ceil(seconds / 60))
    return list(range(current - count + 1, current + 1))


__all__ = [
    "COUNTER",
    "GAUGE",
    "HISTOGRAM",
    "WINDOWS",
    "Point",
    "SeriesStats",
    "Snapshot",
    "Store",
    "deltas_from_fields",
    "minute_now",
    "minutes_in_window",
    "process_name",
    "window_seconds",
]
