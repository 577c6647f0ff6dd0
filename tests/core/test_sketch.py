from __future__ import annotations

import random

import pytest

from perfsuite.core.sketch import HistData, Mapping

MAPPING = Mapping(0.01)


def exact(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(int(q * len(sorted_values)), len(sorted_values) - 1)]


def histogram_of(values: list[float]) -> HistData:
    hist = HistData()
    for value in values:
        hist.add(value, MAPPING)
    return hist


@pytest.fixture(scope="module")
def samples() -> list[float]:
    rng = random.Random(1234)
    return [rng.lognormvariate(-3.0, 1.2) for _ in range(100_000)]


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_percentiles_within_one_percent_of_exact(samples: list[float], q: float) -> None:
    hist = histogram_of(samples)
    truth = exact(sorted(samples), q)
    estimate = hist.quantile(q, MAPPING)
    assert abs(estimate - truth) / truth <= 0.01
    assert hist.count == len(samples)
    assert hist.min == min(samples) and hist.max == max(samples)
    assert hist.sum == pytest.approx(sum(samples), rel=1e-9)


def test_four_merged_histograms_equal_one_of_all_samples(samples: list[float]) -> None:
    parts = [histogram_of(samples[i::4]) for i in range(4)]
    merged = HistData.merged(parts)
    assert merged == histogram_of(samples)
    ordered = sorted(samples)
    for q in (0.5, 0.95, 0.99):
        truth = exact(ordered, q)
        assert abs(merged.quantile(q, MAPPING) - truth) / truth <= 0.01


def test_negative_zero_and_positive_values_keep_order() -> None:
    values = [-5.0, -1.0, 0.0, 0.0, 2.0, 10.0]
    hist = histogram_of(values)
    assert hist.quantile(0.0, MAPPING) == -5.0
    assert hist.quantile(1.0, MAPPING) == 10.0
    assert hist.quantile(0.5, MAPPING) == 0.0
    assert abs(hist.quantile(0.2, MAPPING) - (-1.0)) <= 0.01
    assert hist.count_le(0.0, MAPPING) == 4


def test_small_samples_use_the_guides_rank() -> None:
    hist = histogram_of([0.0042, 0.0043, 0.0417])
    assert abs(hist.quantile(0.95, MAPPING) - 0.0417) <= 0.0417 * 0.01
    assert abs(hist.quantile(0.5, MAPPING) - 0.0043) <= 0.0043 * 0.01


def test_empty_histogram_has_no_percentiles() -> None:
    stats = HistData().stats(MAPPING)
    assert stats["count"] == 0
    assert stats["p99"] is None and stats["min"] is None


def test_bucket_fields_round_trip() -> None:
    hist = histogram_of([-3.0, 0.0, 0.5, 0.5, 7.0])
    clone = HistData()
    for field, n in hist.bucket_fields().items():
        clone.add_bucket_field(field, n)
    assert clone.pos == hist.pos and clone.neg == hist.neg and clone.zero == hist.zero
