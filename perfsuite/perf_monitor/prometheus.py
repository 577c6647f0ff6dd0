"""Prometheus text exposition of every metric in the registry.

Aggregated over all processes when the Redis store is configured (one snapshot,
no per-worker files or ports). Histograms are exported with fixed ``le`` bounds
counted from the sketch buckets. The format itself is written by prometheus_client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from perfsuite.core import metrics
from perfsuite.core.series import COUNTER, GAUGE, HISTOGRAM

LE_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_invalid = re.compile(r"[^a-zA-Z0-9_:]")


def _name(name: str) -> str:
    return _invalid.sub("_", name)


class SnapshotCollector:
    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot

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
                family = GaugeMetricFamily(_name(name), doc, labels=labelnames)
                for key in keys:
                    family.add_metric([v for _, v in key.labels], sum(snap.gauges[key]))
            elif kind == HISTOGRAM:
                family = HistogramMetricFamily(_name(name), doc, labels=labelnames)
                for key in keys:
                    hist = snap.histograms[key]
                    buckets = [(repr(b), hist.count_le(b, snap.mapping)) for b in LE_BOUNDS]
                    buckets.append(("+Inf", hist.count))
                    family.add_metric([v for _, v in key.labels], buckets, hist.sum)
            else:  # pragma: no cover
                continue
            yield family


def exposition() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(metrics.registry.snapshot("all")))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
