"""The registry: the metrics of this process and the deltas not yet sent.

Series record into memory; :meth:`Registry._drain` moves what they recorded into
per-minute deltas (a :class:`~perfsuite.core.series.Batch`) that the
:class:`~perfsuite.core.flusher.Flusher` sends to the store. Readers ask
:meth:`Registry.snapshot`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .conf import perf_settings
from .flusher import Flusher
from .instruments import (
    OVERFLOW_METRIC,
    Counter,
    Gauge,
    Histogram,
    Metric,
    _CounterChild,
    _HistogramChild,
)
from .series import Batch, MinuteDeltas, SeriesId
from .sketch import Mapping
from .spool import Spool, recover, spool_directory, store_prefix

if TYPE_CHECKING:
    from .stores.base import Snapshot, Store

DROPPED_METRIC = "perfsuite_dropped_observations"
RECOVERED_METRIC = "perfsuite_recovered_observations"

_time = time.time
logger = logging.getLogger("perfsuite.metrics")


class Registry:
    """Holds the metrics of this process and the deltas not yet flushed to the store."""

    def __init__(
        self, store: Store | None = None, *, autoflush: bool = True, spool_dir: str | None = None
    ) -> None:
        """``store`` fixes the store (else it comes from settings); ``spool_dir`` turns on
        the crash journal for a fixed shared store (from settings otherwise)."""
        self._configured = False
        self._fixed_store = store
        self._store: Store | None = store
        self._autoflush = autoflush
        self._spool_dir = spool_dir
        self._spool: Spool | None = None
        self._spool_tried = False
        self._applied_seq = 0
        self._metrics: dict[str, Metric] = {}
        self._define_lock = threading.Lock()
        self.mapping = Mapping(0.01)
        self.max_series = 500
        self._reset_buffers()
        self._flusher = Flusher(self)
        self.overflow = self.counter(
            OVERFLOW_METRIC, "Recordings folded into the 'other' series", ("metric",)
        )
        self.dropped_counter = self.counter(
            DROPPED_METRIC, "Observations dropped because the store was unreachable too long"
        )
        self.recovered_counter = self.counter(
            RECOVERED_METRIC, "Observations of killed processes recovered from their journals"
        )
        self._flusher.hook_process(self)

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
        self._flusher.breaker.reset()
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
        self._seq = 0

    # -- the crash journal (perfsuite.core.spool) ------------------------
    def _open_spool(self) -> None:
        """On the first recording: journal this process's observations when the store
        is shared (a killed worker's deltas are then recovered by the others)."""
        self._spool_tried = True
        try:
            store = self.store
            writer = getattr(store, "writer", None)
            directory = self._spool_dir
            if directory is None and self._fixed_store is None and perf_settings.SPOOL:
                directory = spool_directory(getattr(store, "url", ""), store_prefix(store))
            if writer and directory:
                self._spool = Spool(directory, writer)
        except Exception:
            logger.warning("perfsuite metrics journal disabled", exc_info=True)

    def _batch_applied(self, batch: Batch) -> None:
        self._applied_seq = max(self._applied_seq, batch.seq)
        if self._spool is not None:
            self._spool.applied(batch.seq)

    def recover_spools(self) -> int:
        """Send the journals of this machine's dead processes to the store."""
        spool = self._spool
        if spool is None:
            return 0
        count = recover(
            os.path.dirname(spool.path),
            spool.path,
            self.mapping,
            self.store.write,
            int(_time() // 60),
        )
        if count:
            self.recovered_counter.inc(count)
            logger.warning("perfsuite recovered %d observations of killed processes", count)
        return count

    def _after_fork(self) -> None:
        # The parent's unflushed deltas are the parent's to flush.
        self._reset_buffers()
        for metric in self._metrics.values():
            for child in metric.all_children():
                if isinstance(child, _CounterChild | _HistogramChild):
                    child._lock = self._lock
                    child.discard()
        self._flusher = Flusher(self)
        if self._spool is not None:
            self._spool.close()  # the parent's journal: unmapped here, never deleted
        self._spool = None
        self._spool_tried = False
        self._applied_seq = 0
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
        if not self._spool_tried:
            self._open_spool()
        if self._autoflush and not self._flusher.started:
            self._flusher.start()

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
                if self._spool is not None:
                    self._spool.swap(batch.seq, self._applied_seq)
        return batch

    def pending_size(self) -> int:
        with self._lock:
            size = len(self._dirty) + sum(len(d) for d in self._closed.values())
        return size + self._flusher.pending_size()

    # -- sending ---------------------------------------------------------
    def flush(self) -> bool:
        """Send every buffered delta to the store now; False when the store failed."""
        return self._flusher.flush()

    def close(self) -> None:
        """Stop the flusher thread and send what is buffered (called at exit); the
        journal goes once everything in it is in the store."""
        self._flusher.close()
        spool = self._spool
        if spool is not None and self._flusher.carry is None and not self.pending_size():
            self._spool = None
            spool.remove()

    @property
    def dropped(self) -> int:
        """Observations dropped because the store was unreachable too long."""
        return self._flusher.dropped

    # -- reading -------------------------------------------------------
    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        """Flush this process's deltas, then read the store over ``window``."""
        self.flush()
        return self.store.snapshot(window, points=points)

    def reset(self) -> None:
        """Clear the store and this process's buffered deltas."""
        with self._flusher.lock:
            self._drain()
            self._flusher.carry = None
            with self._lock:
                self._gauges = {}
                self._gauges_changed = set()
            self.store.reset()
