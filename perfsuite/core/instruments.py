"""The metric API: counters, gauges and histograms, and the series they record into.

``metric.labels(*values)`` returns the series (a child) for one label set; its
``inc``/``observe``/``set`` take the registry's lock, update memory and return.
Each kind's child type is its own, so ``COUNTER.labels(...).observe(...)`` is a
type error, not a silent no-op.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .series import COUNTER, GAUGE, HISTOGRAM, SeriesId
from .sketch import MIN_INDEXABLE, HistData

if TYPE_CHECKING:
    from .registry import Registry

OTHER = "other"
OVERFLOW_METRIC = "perfsuite_series_overflow"

_time = time.time
_ceil = math.ceil
_log = math.log

C = TypeVar("C")


class Metric(Generic[C]):
    """A named metric; ``labels(*values)`` returns the series to record into."""

    kind = ""

    def __init__(
        self, registry: Registry, name: str, documentation: str, labelnames: Sequence[str]
    ) -> None:
        self.registry = registry
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        self._other: Any = None
        self._count = 0
        if not self.labelnames:
            self._default = self._make_child(())

    def _make_child(self, values: tuple[str, ...]) -> C:
        raise NotImplementedError

    def labels(self, *values: object) -> C:
        """The series for these label values (positional, in ``labelnames`` order).

        Beyond ``MAX_SERIES_PER_METRIC`` distinct label sets, new ones share one
        ``other`` series and ``perfsuite_series_overflow{metric=...}`` grows.
        """
        child = self._children.get(values)  # type: ignore[arg-type]
        if child is not None:
            return child
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values!r}")
        key = tuple("" if v is None else str(v) for v in values)
        if not self.registry._configured:
            self.registry.configure()
        with self._lock:
            child = self._children.get(key)
            if child is None:
                if self._count >= self.registry.max_series:
                    if self.name != OVERFLOW_METRIC:
                        self.registry.overflow.labels(self.name).inc()
                    if self._other is None:
                        self._other = self._make_child((OTHER,) * len(self.labelnames))
                    return self._other
                child = self._make_child(key)
                self._children[key] = child
                self._count += 1
            self._children[values] = child  # type: ignore[index]
        return child

    def series_id(self, values: tuple[str, ...]) -> SeriesId:
        return SeriesId(self.kind, self.name, tuple(zip(self.labelnames, values, strict=True)))

    def series_count(self) -> int:
        return self._count

    def all_children(self) -> list[Any]:
        found = {id(c): c for c in self._children.values()}
        for extra in (self._other, getattr(self, "_default", None)):
            if extra is not None:
                found[id(extra)] = extra
        return list(found.values())


class _CounterChild:
    __slots__ = ("_key", "_lock", "_reg", "_value")

    def __init__(self, registry: Registry, key: SeriesId) -> None:
        self._reg = registry
        self._key = key
        self._lock = registry._lock
        self._value: float | None = None

    def inc(self, amount: float = 1) -> None:
        with self._lock:
            value = self._value
            if value is None:
                self._value = amount
                self._reg._mark(self)
            else:
                self._value = value + amount
            spool = self._reg._spool
            if spool is not None:
                spool.record(self._key, amount)

    def discard(self) -> None:
        self._value = None


class _HistogramChild:
    __slots__ = ("_hist", "_key", "_lock", "_mult", "_reg")

    def __init__(self, registry: Registry, key: SeriesId) -> None:
        self._reg = registry
        self._key = key
        self._lock = registry._lock
        self._mult = registry.mapping.multiplier
        self._hist: HistData | None = None

    def observe(self, value: float) -> None:
        with self._lock:
            hist = self._hist
            if hist is None:
                hist = self._hist = HistData()
                self._reg._mark(self)
            if value > MIN_INDEXABLE:
                bucket = _ceil(_log(value) * self._mult)
                pos = hist.pos
                pos[bucket] = pos.get(bucket, 0) + 1
                hist.count += 1
                hist.sum += value
                if value < hist.min:
                    hist.min = value
                if value > hist.max:
                    hist.max = value
            else:
                hist.add(value, self._reg.mapping)
            spool = self._reg._spool
            if spool is not None:
                spool.record(self._key, value)

    def discard(self) -> None:
        self._hist = None


class _GaugeChild:
    __slots__ = ("_key", "_reg")

    def __init__(self, registry: Registry, key: SeriesId) -> None:
        self._reg = registry
        self._key = key

    def set(self, value: float) -> None:
        reg = self._reg
        with reg._lock:
            reg._gauges[self._key] = (float(value), _time())
            reg._gauges_changed.add(self._key)
            if reg._autoflush and not reg._flusher.started:  # as counters do
                reg._flusher.start()

    def inc(self, amount: float = 1) -> None:
        reg = self._reg
        with reg._lock:
            old = reg._gauges.get(self._key)
            reg._gauges[self._key] = ((old[0] if old else 0.0) + amount, _time())
            reg._gauges_changed.add(self._key)
            if reg._autoflush and not reg._flusher.started:
                reg._flusher.start()

    def dec(self, amount: float = 1) -> None:
        self.inc(-amount)


class Counter(Metric["_CounterChild"]):
    kind = COUNTER

    def _make_child(self, values: tuple[str, ...]) -> _CounterChild:
        return _CounterChild(self.registry, self.series_id(values))

    def inc(self, amount: float = 1) -> None:
        self._default.inc(amount)


class Histogram(Metric["_HistogramChild"]):
    kind = HISTOGRAM

    def _make_child(self, values: tuple[str, ...]) -> _HistogramChild:
        return _HistogramChild(self.registry, self.series_id(values))

    def observe(self, value: float) -> None:
        self._default.observe(value)


class Gauge(Metric["_GaugeChild"]):
    """A per-process value; snapshots report the sum and max over live processes."""

    kind = GAUGE

    def _make_child(self, values: tuple[str, ...]) -> _GaugeChild:
        return _GaugeChild(self.registry, self.series_id(values))

    def set(self, value: float) -> None:
        self._default.set(value)

    def inc(self, amount: float = 1) -> None:
        self._default.inc(amount)

    def dec(self, amount: float = 1) -> None:
        self._default.dec(amount)
