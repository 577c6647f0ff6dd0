from __future__ import annotations

from collections.abc import Iterator

import pytest

from perfsuite.core import metrics
from perfsuite.perf_monitor import metrics as recorder


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    metrics.registry.reset()
    recorder.slowest.clear()
    recorder.sampler.due = 0.0
    yield
    metrics.registry.reset()


def snapshot(window: str = "all"):  # type: ignore[no-untyped-def]
    return metrics.registry.snapshot(window)
