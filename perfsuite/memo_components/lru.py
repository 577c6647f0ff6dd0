"""The per-process render LRU: bounded by entries **and** bytes, indexed by the model
instances each render shows, with counters per component class.

One instance (``renders``) serves every memoized component of the process; it is
registered in core's clearable-cache registry as ``memo_components.renders`` so the
memory app can shrink it without importing this app.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from perfsuite.core.conf import perf_settings

from . import metrics

Dep = tuple[str, Any]


@dataclass
class Entry:
    html: str
    component: str
    deps: tuple[Dep, ...]
    size: int


@dataclass
class Counts:
    hits: int = 0
    shared_hits: int = 0
    misses: int = 0
    evictions: int = 0
    entries: int = 0
    bytes: int = 0


@dataclass
class RenderLRU:
    entries: OrderedDict[Any, Entry] = field(default_factory=OrderedDict)
    by_dep: defaultdict[Dep, set[Any]] = field(default_factory=lambda: defaultdict(set))
    counts: defaultdict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    size: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Any) -> str | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            self.entries.move_to_end(key)
            return entry.html

    def put(self, key: Any, html: str, component: str, deps: tuple[Dep, ...]) -> None:
        size = len(html.encode()) + 64 * (len(key) + 1)  # the HTML, and roughly the key
        with self.lock:
            self._drop(key, evicted=False)
            limit_bytes, limit_entries = _limits()
            if size > limit_bytes:
                return  # larger than the whole cache: served, not kept
            self.entries[key] = Entry(html, component, deps, size)
            self.size += size
            counts = self.counts[component]
            counts.entries += 1
            counts.bytes += size
            for dep in deps:
                self.by_dep[dep].add(key)
            while self.entries and (len(self.entries) > limit_entries or self.size > limit_bytes):
                self._drop(next(iter(self.entries)), evicted=True)
            self._publish(component)

    def drop_dep(self, dep: Dep) -> int:
        """Drop every render that shows model instance ``dep``; returns how many."""
        with self.lock:
            keys = self.by_dep.pop(dep, set())
            touched = {self.entries[k].component for k in keys if k in self.entries}
            for key in keys:
                self._drop(key, evicted=False)
            for component in touched:
                self._publish(component)
            return len(keys)

    def shrink(self, keep: float) -> int:
        """Keep the most recently used fraction ``keep`` (core.caches contract)."""
        with self.lock:
            remove = len(self.entries) - int(len(self.entries) * max(0.0, min(1.0, keep)))
            touched = set()
            for key in list(self.entries)[:remove]:
                touched.add(self.entries[key].component)
                self._drop(key, evicted=True)
            for component in touched:
                self._publish(component)
            return remove

    def clear(self) -> None:
        self.shrink(0.0)

    def _drop(self, key: Any, evicted: bool) -> None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        self.size -= entry.size
        counts = self.counts[entry.component]
        counts.entries -= 1
        counts.bytes -= entry.size
        for dep in entry.deps:
            keys = self.by_dep.get(dep)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.by_dep[dep]
        if evicted:
            counts.evictions += 1
            metrics.record_eviction(entry.component)

    def _publish(self, component: str) -> None:
        counts = self.counts[component]
        metrics.record_size(component, counts.entries, counts.bytes)

    def stats(self) -> tuple[int, int]:
        with self.lock:
            return len(self.entries), self.size


def _limits() -> tuple[int, int]:
    conf = perf_settings.as_dict()
    return int(conf["COMPONENT_CACHE_BYTES"]), int(conf["COMPONENT_CACHE_ENTRIES"])


renders = RenderLRU()


def register_clearable() -> None:
    from perfsuite.core import caches

    caches.register("memo_components.renders", renders.stats, renders.shrink)
