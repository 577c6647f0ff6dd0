from __future__ import annotations

import logging

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from perfsuite.core.conf import perf_settings


def perfsuite_errors() -> list:
    """The core's messages (perfsuite.E00x); the apps' own checks are tested with the apps."""
    return [m for m in run_checks() if m.id and m.id.startswith("perfsuite.E00")]


def test_defaults_are_documented_values() -> None:
    with override_settings(PERFSUITE={}):
        assert perf_settings.STORE == "local"
        assert perf_settings.FLUSH_INTERVAL == 1.0
        assert perf_settings.BUCKET_TTL == 86400
        assert perf_settings.MAX_SERIES_PER_METRIC == 500


def test_override_settings_is_seen_and_undone() -> None:
    with override_settings(PERFSUITE={"FLUSH_INTERVAL": 5}):
        assert perf_settings.FLUSH_INTERVAL == 5
    assert perf_settings.FLUSH_INTERVAL == 1.0


def test_clean_settings_have_no_errors() -> None:
    assert perfsuite_errors() == []


@pytest.mark.parametrize(
    ("value", "error_id"),
    [
        ("not a dict", "perfsuite.E001"),
        ({"FLUSH_INTERVALL": 1}, "perfsuite.E005"),  # was E001: one id, one meaning
        ({"FLUSH_INTERVAL": 0}, "perfsuite.E002"),
        ({"FLUSH_INTERVAL": "1s"}, "perfsuite.E002"),
        ({"MAX_SERIES_PER_METRIC": -3}, "perfsuite.E002"),
        ({"HISTOGRAM_RELATIVE_ACCURACY": 2}, "perfsuite.E002"),
        ({"STORE": ""}, "perfsuite.E002"),
        ({"STORE": "redis"}, "perfsuite.E003"),
        ({"STORE": "sqlite"}, "perfsuite.E007"),
        ({"STORE": "sqlite", "SQLITE_PATH": 3}, "perfsuite.E002"),
        ({"STORE": "no.such.module.Store"}, "perfsuite.E006"),  # was E004
    ],
)
def test_bad_values_are_check_errors_with_ids(value: object, error_id: str) -> None:
    with override_settings(PERFSUITE=value):
        errors = perfsuite_errors()
    assert [e.id for e in errors] == [error_id]
    assert errors[0].hint


def test_bad_value_at_run_time_falls_back_to_default_with_a_warning(caplog) -> None:
    with override_settings(PERFSUITE={"FLUSH_INTERVAL": -1}), caplog.at_level(logging.WARNING):
        assert perf_settings.FLUSH_INTERVAL == 1.0
    assert any("FLUSH_INTERVAL" in r.getMessage() for r in caplog.records)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NOPE"):
        perf_settings.NOPE  # noqa: B018


def test_the_redis_store_without_the_redis_package_is_e004(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)  # "import redis" raises ImportError
    with override_settings(PERFSUITE={"STORE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}):
        errors = perfsuite_errors()
    assert [e.id for e in errors] == ["perfsuite.E004"]
    assert "django-perfsuite[redis]" in errors[0].hint
