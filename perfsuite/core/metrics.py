"""Counters, gauges and latency histograms with bounded label sets.

Recording is on the hot path of every request: it takes a lock, updates a dict
in memory and returns, with no network round trip. A background thread (started
on the first recording in each process, and again after a fork) drains the
deltas to the configured store every ``FLUSH_INTERVAL`` seconds; the store is the
local process or Redis (see :mod:`perfsuite.core.stores`). A process that exits
cleanly flushes first (``atexit`` and multiprocessing finalizers).

    from perfsuite.core import metrics

    REQUESTS = metrics.counter("http_requests", "Requests", ("route", "status"))
    LATENCY = metrics.histogram("http_request_seconds", "Latency", ("route",))

    REQUESTS.labels("shop:products", "2xx").inc()
    LATENCY.labels("shop:products").observe(0.012)
    snapshot = metrics.registry.snapshot("5m")
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .breaker import Breaker
from .conf import perf_settings
from .series import COUNTER, GAUGE, HISTOGRAM, Batch, MinuteDeltas, SeriesId
from .sketch import MIN_INDEXABLE, HistData, Mapping

if TYPE_CHECKING:
    from .stores.base import Snapshot, Store

logger = logging.getLogger("perfsuite.metrics")

OTHER = "other"
OVERFLOW_METRIC = "perfsuite_series_overflow"
DROPPED_METRIC = "perfsuite_dropped_observations"

_time = time.time
_ceil = math.ceil
_log = math.log


class Metric:
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

    def _make_child(self, values: tuple[str, ...]) -> Any:
        raise NotImplementedError

    def labels(self, *values: object) -> Any:
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

    def inc(self, amount: float = 1) -> None:
        reg = self._reg
        with reg._lock:
            old = reg._gauges.get(self._key)
            reg._gauges[self._key] = ((old[0] if old else 0.0) + amount, _time())
            reg._gauges_changed.add(self._key)

    def dec(self, amount: float = 1) -> None:
        self.inc(-amount)


class Counter(Metric):
    kind = COUNTER

    def _make_child(self, values: tuple[str, ...]) -> _CounterChild:
        return _CounterChild(self.registry, self.series_id(values))

    def inc(self, amount: float = 1) -> None:
        self._default.inc(amount)


class Histogram(Metric):
    kind = HISTOGRAM

    def _make_child(self, values: tuple[str, ...]) -> _HistogramChild:
        return _HistogramChild(self.registry, self.series_id(values))

    def observe(self, value: float) -> None:
        self._default.observe(value)


class Gauge(Metric):
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


class Registry:
    """Holds the metrics of this process and the deltas not yet flushed to the store."""

    def __init__(self, store: Store | None = None, *, autoflush: bool = True) -> None:
        self._configured = False
        self._fixed_store = store
        self._store: Store | None = store
        self._autoflush = autoflush
        self._metrics: dict[str, Metric] = {}
        self._define_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self.mapping = Mapping(0.01)
        self.max_series = 500
        self.dropped = 0
        self._dropped_unsent = 0
        self._reset_buffers()
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._breaker = Breaker("metrics store", base=1.0, cap=30.0)
        self._failing_since: float | None = None
        self._last_warning = 0.0
        self.overflow = self.counter(
            OVERFLOW_METRIC, "Recordings folded into the 'other' series", ("metric",)
        )
        self.dropped_counter = self.counter(
            DROPPED_METRIC, "Observations dropped because the store was unreachable too long"
        )
        # Weak references: a registry that is gone (tests make many) is not kept
        # alive, nor flushed at exit, by these hooks.
        ref = weakref.ref(self)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _call(ref, "_after_fork"))
        atexit.register(_call, ref, "close")

    # -- configuration -------------------------------------------------
    def configure(self) -> None:
        """(Re)read settings: accuracy, series bound; drop the cached store."""
        self._configured = True
        try:
            accuracy = float(perf_settings.HISTOGRAM_RELATIVE_ACCURACY)
            max_series = int(perf_settings.MAX_SERIES_PER_METRIC)
        except Exception:  # settings not configured (plain Python use)
            accuracy, max_series = 0.01, 500
        self.max_series = max_series
        if Mapping(accuracy) != self.mapping:
            self.mapping = Mapping(accuracy)
            for metric in self._metrics.values():
                for child in metric.all_children():
                    if isinstance(child, _HistogramChild):
                        child._mult = self.mapping.multiplier
        self._breaker.reset()
        if self._fixed_store is None:
            old = self._store
            self._store = None
            if old is not None:
                old.close()

    @property
    def store(self) -> Store:
        store = self._store
        if store is None:
            if not self._configured:
                self.configure()
            from .stores import store_from_settings

            store = self._store = store_from_settings(self.mapping)
        return store

    def _reset_buffers(self) -> None:
        self._lock = threading.Lock()
        self._dirty: list[Any] = []
        self._closed: dict[int, MinuteDeltas] = {}
        self._gauges: dict[SeriesId, tuple[float, float]] = {}
        #: gauges set since the last drain: an idle process sends nothing
        self._gauges_changed: set[SeriesId] = set()
        self._carry: Batch | None = None
        self._seq = 0

    def _after_fork(self) -> None:
        # The parent's unflushed deltas are the parent's to flush.
        self._reset_buffers()
        for metric in self._metrics.values():
            for child in metric.all_children():
                if isinstance(child, _CounterChild | _HistogramChild):
                    child._lock = self._lock
                    child.discard()
        self._flush_lock = threading.Lock()
        self._flusher = None
        self._stop = threading.Event()
        self._breaker = Breaker("metrics store", base=1.0, cap=30.0)
        if self._fixed_store is None:
            self._store = None
        elif self._store is not None:
            self._store.after_fork()

    # -- definitions ---------------------------------------------------
    def _define(self, cls: type[Metric], name: str, doc: str, labelnames: Sequence[str]) -> Any:
        with self._define_lock:
            metric = self._metrics.get(name)
            if metric is not None:
                if type(metric) is not cls or metric.labelnames != tuple(labelnames):
                    raise ValueError(f"metric {name!r} is already defined differently")
                return metric
            metric = cls(self, name, doc, labelnames)
            self._metrics[name] = metric
            return metric

    def counter(
        self, name: str, documentation: str = "", labelnames: Sequence[str] = ()
    ) -> Counter:
        return self._define(Counter, name, documentation, labelnames)

    def gauge(self, name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Gauge:
        return self._define(Gauge, name, documentation, labelnames)

    def histogram(
        self, name: str, documentation: str = "", labelnames: Sequence[str] = ()
    ) -> Histogram:
        return self._define(Histogram, name, documentation, labelnames)

    def get(self, name: str) -> Metric | None:
        return self._metrics.get(name)

    def metrics(self) -> list[Metric]:
        return list(self._metrics.values())

    # -- buffering -----------------------------------------------------
    def _mark(self, child: Any) -> None:
        """Called under the lock when a series records for the first time since a drain."""
        self._dirty.append(child)
        if self._flusher is None and self._autoflush:
            self._start_flusher()

    def _collect(self) -> None:
        """Under the lock: move what the series recorded into this minute's deltas."""
        dirty = self._dirty
        if not dirty:
            return
        self._dirty = []
        minute = int(_time() // 60)
        deltas = self._closed.get(minute)
        if deltas is None:
            deltas = self._closed[minute] = MinuteDeltas()
        counters = deltas.counters
        histograms = deltas.histograms
        for child in dirty:
            key = child._key
            if isinstance(child, _CounterChild):
                value = child._value
                child._value = None
                if value is not None:
                    counters[key] = counters.get(key, 0) + value
            else:
                hist = child._hist
                child._hist = None
                if hist is not None:
                    mine = histograms.get(key)
                    if mine is None:
                        histograms[key] = hist
                    else:
                        mine.merge(hist)

    def _drain(self) -> Batch:
        with self._lock:
            self._collect()
            gauges = {key: self._gauges[key] for key in self._gauges_changed}
            self._gauges_changed = set()
            batch = Batch(minutes=self._closed, gauges=gauges)
            self._closed = {}
            if batch:
                # Numbered per writer: a store applies each number at most once.
                self._seq += 1
                batch.seq = self._seq
        return batch

    def pending_size(self) -> int:
        with self._lock:
            size = len(self._dirty) + sum(len(d) for d in self._closed.values())
        return size + (self._carry.size() if self._carry is not None else 0)

    # -- flushing ------------------------------------------------------
    def flush(self) -> bool:
        """Hand every buffered delta to the store; False when the store failed.

        On failure the deltas stay buffered (up to ``MAX_BUFFERED_SERIES``, the
        oldest minutes beyond it are dropped and counted) and are sent again with
        the same sequence number, which the Redis store applies at most once.
        After a failure the store is not tried again until the circuit breaker
        lets a probe through (a back-off doubling up to 30 s), so a hung Redis
        costs one socket timeout per interval, not one per flush.
        """
        with self._flush_lock:
            store = self.store
            # The batch a failure left behind (resent unchanged), then what came since.
            for _ in range(2):
                batch = self._carry  # (emptied by _bound_buffers in a long outage)
                if not batch:
                    batch = self._drain()
                if not batch:
                    break
                self._carry = batch
                if not self._breaker.allow():
                    self._bound_buffers()
                    return False
                try:
                    store.write(batch)
                except Exception as exc:
                    self._breaker.failure()
                    self._bound_buffers()
                    self._warn(exc)
                    return False
                self._breaker.success()
                self._carry = None
            self._recovered()
            return True

    def _recovered(self) -> None:
        if self._dropped_unsent:
            # Recorded once the store is back, so the count itself is never dropped.
            self.dropped_counter.inc(self._dropped_unsent)
            self._dropped_unsent = 0
        if self._failing_since is not None:
            logger.warning(
                "perfsuite metrics store is reachable again after %.0fs; buffered deltas sent",
                _time() - self._failing_since,
            )
            self._failing_since = None

    def _bound_buffers(self) -> None:
        """Keep at most ``MAX_BUFFERED_SERIES`` buffered series-minutes; count the rest."""
        try:
            limit = int(perf_settings.MAX_BUFFERED_SERIES)
        except Exception:
            limit = 50000
        dropped = 0
        with self._lock:
            self._collect()
            carry = self._carry
            size = sum(len(d) for d in self._closed.values())
            size += carry.size() if carry is not None else 0
            while size > limit:
                if carry is not None and carry.minutes:
                    minutes = carry.minutes
                elif self._closed:
                    minutes = self._closed
                else:
                    break
                oldest = minutes.pop(min(minutes))
                size -= len(oldest)
                dropped += oldest.observations()
        if dropped:
            self.dropped += dropped
            self._dropped_unsent += dropped
            logger.warning(
                "perfsuite dropped %d buffered observations (store unreachable)", dropped
            )

    def _warn(self, exc: Exception) -> None:
        now = _time()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._last_warning >= 60:
            self._last_warning = now
            logger.warning("perfsuite metrics store unreachable, buffering deltas: %s", exc)

    def _start_flusher(self) -> None:
        self._stop = threading.Event()
        thread = threading.Thread(target=self._run_flusher, name="perfsuite-flush", daemon=True)
        self._flusher = thread
        thread.start()
        try:
            from multiprocessing import util

            # multiprocessing children end with os._exit, which skips atexit.
            util.Finalize(None, _call, args=(weakref.ref(self), "close"), exitpriority=10)
        except Exception:  # pragma: no cover
            pass

    def _run_flusher(self) -> None:
        stop = self._stop
        while True:
            try:
                interval = float(perf_settings.FLUSH_INTERVAL)
            except Exception:
                interval = 1.0
            if not 0.01 <= interval <= 3600:  # also NaN: never spin, never stop
                interval = 1.0
            if stop.wait(interval):
                return
            try:
                self.flush()
            except Exception:  # never let the thread die
                logger.exception("perfsuite metrics flush failed")

    def close(self) -> None:
        """Stop the flusher and flush what is buffered (called at exit)."""
        self._stop.set()
        try:
            if self._carry is not None or self.pending_size():
                self.flush()
        except Exception:
            logger.warning("perfsuite could not flush metrics at exit", exc_info=True)

    # -- reading -------------------------------------------------------
    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        """Flush this process's deltas, then read the store over ``window``."""
        self.flush()
        return self.store.snapshot(window, points=points)

    def reset(self) -> None:
        """Clear the store and this process's buffered deltas."""
        with self._flush_lock:
            self._drain()
            self._carry = None
            with self._lock:
                self._gauges = {}
                self._gauges_changed = set()
            self.store.reset()


def _call(ref: weakref.ref[Registry], method: str) -> None:
    target = ref()
    if target is not None:
        getattr(target, method)()


registry = Registry()


def _on_settings_change() -> None:
    registry.configure()


perf_settings.on_change(_on_settings_change)


def counter(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Counter:
    return registry.counter(name, documentation, labelnames)


def gauge(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Gauge:
    return registry.gauge(name, documentation, labelnames)


def histogram(name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Histogram:
    return registry.histogram(name, documentation, labelnames)
