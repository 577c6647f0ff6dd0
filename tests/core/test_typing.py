"""The metric API is typed: recording the wrong way into a metric is a mypy error."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = """
from perfsuite.core import metrics

COUNTER = metrics.counter("typing_counter", "", ("route",))
COUNTER.labels("a").observe(1.0)
HISTOGRAM = metrics.histogram("typing_histogram", "", ("route",))
HISTOGRAM.labels("a").inc()
GAUGE = metrics.gauge("typing_gauge")
GAUGE.set(1.0)
"""


def test_observe_on_a_counter_is_a_type_error(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "wrong_use.py"
    source.write_text(SNIPPET)
    out, _err, status = api.run(
        ["--no-incremental", "--ignore-missing-imports", "--config-file", "", str(source)]
    )
    assert status == 1
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 2, out
    assert '"_CounterChild" has no attribute "observe"' in out
    assert '"_HistogramChild" has no attribute "inc"' in out
