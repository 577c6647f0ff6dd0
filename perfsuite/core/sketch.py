"""Mergeable latency histograms with a relative-error guarantee (no Django here).

The bucket mapping is DDSketch's logarithmic one: a positive value ``x`` falls in
bucket ``k = ceil(log(x) / log(gamma))`` with ``gamma = (1 + a) / (1 - a)``, and
the bucket is represented by ``2 * gamma**k / (gamma + 1)``, which is within the
relative accuracy ``a`` of every value in the bucket. The mapping is fixed, so
histograms recorded by different processes merge by adding bucket counts and the
percentiles of the merge keep the same error bound. Each histogram also keeps the
exact count, sum, min and max.

Negative values get a mirrored set of buckets and values with ``|x| < 1e-9`` a
zero bucket, so any float can be recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MIN_INDEXABLE = 1e-9


class Mapping:
    """The fixed logarithmic value-to-bucket mapping."""

    __slots__ = ("gamma", "multiplier", "relative_accuracy")

    def __init__(self, relative_accuracy: float = 0.01) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError("relative_accuracy must be between 0 and 1")
        self.relative_accuracy = relative_accuracy
        self.gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self.multiplier = 1 / math.log(self.gamma)

    def key(self, value: float) -> int:
        """Bucket of a value > MIN_INDEXABLE."""
        return math.ceil(math.log(value) * self.multiplier)

    def value(self, key: int) -> float:
        """Representative value of a bucket: within the relative accuracy of its members."""
        return 2 * self.gamma**key / (self.gamma + 1)

    def upper_bound(self, key: int) -> float:
        """The largest value of bucket ``key`` (its upper edge)."""
        return self.gamma**key

    def edge_at_or_above(self, bound: float) -> tuple[int, float]:
        """The bucket whose upper edge is the first at or above ``bound`` (> 0), and
        that edge: counting whole buckets up to it is exact at the edge."""
        key = self.key(bound)
        while self.upper_bound(key) < bound:  # float rounding at an edge
            key += 1
        return key, self.upper_bound(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and other.gamma == self.gamma

    def __hash__(self) -> int:
        return hash(self.gamma)


class HistData:
    """One histogram series: bucket counts plus exact count, sum, min and max."""

    __slots__ = ("count", "max", "min", "neg", "pos", "sum", "zero")

    def __init__(self) -> None:
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.zero = 0
        self.pos: dict[int, int] = {}
        self.neg: dict[int, int] = {}

    def add(self, value: float, mapping: Mapping) -> None:
        if value > MIN_INDEXABLE:
            key = math.ceil(math.log(value) * mapping.multiplier)
            pos = self.pos
            pos[key] = pos.get(key, 0) + 1
        elif value < -MIN_INDEXABLE:
            key = math.ceil(math.log(-value) * mapping.multiplier)
            neg = self.neg
            neg[key] = neg.get(key, 0) + 1
        else:
            self.zero += 1
        self.count += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def merge(self, other: HistData) -> None:
        """Add ``other`` into this histogram (same mapping)."""
        if not other.count:
            return
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.zero += other.zero
        for src, dst in ((other.pos, self.pos), (other.neg, self.neg)):
            for key, n in src.items():
                dst[key] = dst.get(key, 0) + n

    def copy(self) -> HistData:
        clone = HistData()
        clone.merge(self)
        return clone

    @classmethod
    def merged(cls, parts: Iterable[HistData]) -> HistData:
        total = cls()
        for part in parts:
            total.merge(part)
        return total

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HistData):
            return NotImplemented
        return (
            self.count == other.count
            and self.zero == other.zero
            and self.pos == other.pos
            and self.neg == other.neg
            and self.min == other.min
            and self.max == other.max
            and math.isclose(self.sum, other.sum, rel_tol=1e-9, abs_tol=1e-12)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None

    def quantile(self, q: float, mapping: Mapping) -> float | None:
        """The value at quantile ``q`` (0..1), within the mapping's relative accuracy."""
        if not self.count:
            return None
        if q <= 0:
            return self.min
        if q >= 1:
            return self.max
        # The guide's definition: the sample at index int(q * n) of the sorted values.
        rank = min(int(q * self.count), self.count - 1)
        seen = 0
        result: float | None = None
        for key in sorted(self.neg, reverse=True):
            seen += self.neg[key]
            if seen > rank:
                result = -mapping.value(key)
                break
        if result is None:
            seen += self.zero
            if seen > rank:
                result = 0.0
        if result is None:
            for key in sorted(self.pos):
                seen += self.pos[key]
                if seen > rank:
                    result = mapping.value(key)
                    break
        if result is None:  # pragma: no cover - rank < count always lands above
            result = self.max
        return min(max(result, self.min), self.max)

    def count_through(self, key: int) -> int:
        """Observations in positive buckets up to ``key`` and every smaller value: the
        exact count of observations <= the upper edge of bucket ``key``."""
        return sum(self.neg.values()) + self.zero + sum(n for k, n in self.pos.items() if k <= key)

    def count_le(self, bound: float, mapping: Mapping) -> int:
        """Observations <= ``bound`` by whole buckets' representative values (an
        approximation off a bucket edge: :meth:`count_through` is exact at one)."""
        total = 0
        for key, n in self.neg.items():
            if -mapping.value(key) <= bound:
                total += n
        if bound >= 0:
            total += self.zero
        for key, n in self.pos.items():
            if mapping.value(key) <= bound:
                total += n
        return total

    def stats(self, mapping: Mapping) -> dict[str, float | int | None]:
        return {
            "count": self.count,
            "sum": self.sum,
            "min": self.min if self.count else None,
            "max": self.max if self.count else None,
            "mean": self.mean,
            "p50": self.quantile(0.50, mapping),
            "p95": self.quantile(0.95, mapping),
            "p99": self.quantile(0.99, mapping),
        }

    # Flat field form, shared by the Redis store ("p12" -> count, ...).
    def bucket_fields(self) -> dict[str, int]:
        fields = {f"p{k}": n for k, n in self.pos.items()}
        fields.update({f"n{k}": n for k, n in self.neg.items()})
        if self.zero:
            fields["z"] = self.zero
        return fields

    def add_bucket_field(self, field: str, n: int) -> None:
        if field == "z":
            self.zero += n
        elif field[0] == "p":
            key = int(field[1:])
            self.pos[key] = self.pos.get(key, 0) + n
        elif field[0] == "n":
            key = int(field[1:])
            self.neg[key] = self.neg.get(key, 0) + n
