"""Prometheus text exposition of every metric in the registry.

Aggregated over all processes when the Redis store is configured (one snapshot,
no per-worker files or ports). The format itself is written by prometheus_client.

- **Histograms** are exported with ``le`` bounds that are edges of the sketch's
  buckets: each configured bound (``PROMETHEUS_BUCKETS`` for seconds, memory
  sizes for ``*_bytes``) is moved up to the first bucket edge at or above it
  (at most 2 % higher with the default 1 % accuracy), so every cumulative count
  is exact, never off by the observations near a bound.
- **Gauges** are per process: each process's value carries a ``process`` label
  (``host:pid``); nothing is summed into a figure no process has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from perfsuite.core import metrics
from perfsuite.core.conf import perf_settings
from perfsuite.core.series import COUNTER, GAUGE, HISTOGRAM
from perfsuite.core.sketch import Mapping

#: memory histograms (``*_bytes``): 32 MiB to 64 GiB, doubling
MEMORY_BOUNDS = tuple(float(2**n) for n in range(25, 37))

_invalid = re.compile(r"[^a-zA-Z0-9_:]")


def _name(name: str) -> str:
    return _invalid.sub("_", name)


def exported_bounds(mapping: Mapping, requested: Sequence[float]) -> list[tuple[int, float]]:
    """(bucket key, edge) for each requested bound, moved up to a bucket edge."""
    edges = sorted({mapping.edge_at_or_above(float(b)) for b in requested if b > 0})
    return edges


class SnapshotCollector:
    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        mapping = snapshot.mapping
        self.seconds_bounds = exported_bounds(mapping, perf_settings.PROMETHEUS_BUCKETS)
        self.memory_bounds = exported_bounds(mapping, MEMORY_BOUNDS)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        snap = self.snapshot
        docs = {m.name: m.documentation for m in metrics.registry.metrics()}
        grouped: dict[tuple[str, str], list[Any]] = {}
        for key in [*snap.counters, *snap.histograms, *snap.gauges]:
            grouped.setdefault((key.kind, key.name), []).append(key)
        for (kind, name), keys in sorted(grouped.items()):
            labelnames = [k for k, _ in keys[0].labels]
            doc = docs.get(name) or name
            if kind == COUNTER:
                family: Any = CounterMetricFamily(_name(name), doc, labels=labelnames)
                for key in keys:
                    family.add_metric([v for _, v in key.labels], snap.counters[key])
            elif kind == GAUGE:
                family = GaugeMetricFamily(
                    _name(name), doc + " (one value per process)", labels=[*labelnames, "process"]
                )
                for key in keys:
                    for process, value in sorted(snap.gauges[key].items()):
                        family.add_metric([*(v for _, v in key.labels), process], value)
            elif kind == HISTOGRAM:
                family = HistogramMetricFamily(_name(name), doc, labels=labelnames)
                bounds = self.memory_bounds if name.endswith("_bytes") else self.seconds_bounds
                for key in keys:
                    hist = snap.histograms[key]
                    buckets = [(repr(edge), hist.count_through(k)) for k, edge in bounds]
                    buckets.append(("+Inf", hist.count))
                    family.add_metric([v for _, v in key.labels], buckets, hist.sum)
            else:  # pragma: no cover
                continue
            yield family


def exposition() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(metrics.registry.snapshot("all")))
    return generate_latest(registry), CONTENT_TYPE_LATEST
