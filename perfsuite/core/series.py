"""Series identity and the batch of deltas a process hands to a store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import NamedTuple

from .sketch import HistData

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"


class SeriesId(NamedTuple):
    """One metric with one set of label values."""

    kind: str
    name: str
    labels: tuple[tuple[str, str], ...]

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)

    def encode(self) -> str:
        return json.dumps([self.kind, self.name, [list(pair) for pair in self.labels]])

    @classmethod
    def decode(cls, raw: str | bytes) -> SeriesId:
        kind, name, labels = json.loads(raw)
        return cls(kind, name, tuple((str(k), str(v)) for k, v in labels))

    @property
    def sid(self) -> str:
        """Short stable id used as a Redis hash field prefix."""
        return hashlib.blake2b(self.encode().encode(), digest_size=8).hexdigest()


@dataclass
class MinuteDeltas:
    """What one process recorded during one wall-clock minute."""

    counters: dict[SeriesId, float] = field(default_factory=dict)
    histograms: dict[SeriesId, HistData] = field(default_factory=dict)

    def merge(self, other: MinuteDeltas, *, copy: bool = False) -> None:
        """Add ``other`` into these deltas: the one merge routine of stores and readers.

        ``copy=True`` when ``other`` stays in use (a store keeping its own totals):
        its histograms are then copied, never shared.
        """
        for sid, value in other.counters.items():
            self.counters[sid] = self.counters.get(sid, 0) + value
        for sid, hist in other.histograms.items():
            mine = self.histograms.get(sid)
            if mine is None:
                self.histograms[sid] = hist.copy() if copy else hist
            else:
                mine.merge(hist)

    def __len__(self) -> int:
        return len(self.counters) + len(self.histograms)

    def observations(self) -> int:
        return len(self.counters) + sum(h.count for h in self.histograms.values())


@dataclass
class Batch:
    """Deltas keyed by minute (epoch seconds // 60) plus the latest gauge values."""

    minutes: dict[int, MinuteDeltas] = field(default_factory=dict)
    gauges: dict[SeriesId, tuple[float, float]] = field(default_factory=dict)
    #: numbered per writer: a store that may see the same batch twice (a retry
    #: after a lost reply) applies it once by its number
    seq: int = 0
    #: the process whose batch this is, when another process sends it for it
    #: (a dead process's journal: :mod:`perfsuite.core.spool`)
    writer: str | None = None

    def size(self) -> int:
        return sum(len(d) for d in self.minutes.values()) + len(self.gauges)

    def __bool__(self) -> bool:
        return bool(self.minutes) or bool(self.gauges)
