"""One warning per interval, and the next one says how many were held back."""

from __future__ import annotations

import logging

import pytest

from perfsuite.core.logs import Throttled


def test_one_warning_per_interval_then_the_count_of_the_others(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr("perfsuite.core.logs.time.monotonic", lambda: clock[0])
    throttled = Throttled(logging.getLogger("perfsuite.test"), 60)
    with caplog.at_level(logging.WARNING, logger="perfsuite.test"):
        assert throttled.warning("backend down: %s", "refused")
        for _ in range(99):
            assert not throttled.warning("backend down: %s", "refused")
        clock[0] += 61
        assert throttled.warning("backend down: %s", "refused")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "backend down: refused",
        "backend down: refused (99 more since the last warning)",
    ]


def test_the_interval_may_come_from_settings() -> None:
    interval = [0.0]
    throttled = Throttled(logging.getLogger("perfsuite.test"), lambda: interval[0])
    assert throttled.warning("a") and throttled.warning("b")
    interval[0] = 3600
    assert not throttled.warning("c")
