"""Checks W701 (a delay beyond the Redis visibility timeout), W702 (eager outside tests)
and W703 (a result backend that never expires)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from perfsuite.tasks import checks

REDIS = "redis://127.0.0.1:6379/0"


def ids() -> list[str]:
    return [m.id for m in run_checks() if m.id and m.id.startswith("perfsuite.W7")]


def test_w701_a_delay_beyond_the_visibility_timeout() -> None:
    short = {"visibility_timeout": 300}
    with override_settings(CELERY_BROKER_URL=REDIS, CELERY_BROKER_TRANSPORT_OPTIONS=short):
        found = [m for m in run_checks() if m.id == "perfsuite.W701"]
        assert len(found) == 1
        assert "TASK_RETRY_BACKOFF_MAX" in found[0].msg and "300 s" in found[0].msg
        assert found[0].hint
    roomy = {"visibility_timeout": 6 * 3600}
    with override_settings(CELERY_BROKER_URL=REDIS, CELERY_BROKER_TRANSPORT_OPTIONS=roomy):
        assert "perfsuite.W701" not in ids()
        with override_settings(CELERY_TASK_TIME_LIMIT=7 * 3600):
            msgs = [m.msg for m in run_checks() if m.id == "perfsuite.W701"]
            assert len(msgs) == 1 and "CELERY_TASK_TIME_LIMIT = 25200 s" in msgs[0]
        with override_settings(PERFSUITE={"STORE": "local", "TASK_RETRY_BACKOFF_MAX": 86400}):
            assert "perfsuite.W701" in ids()
    # kombu's default (1 hour) counts when nothing sets it; not a Redis broker: no check
    with override_settings(
        CELERY_BROKER_URL=REDIS,
        CELERY_BROKER_TRANSPORT_OPTIONS={},
        PERFSUITE={"STORE": "local", "TASK_RETRY_BACKOFF_MAX": 3600},
    ):
        assert "perfsuite.W701" in ids()
    with override_settings(
        CELERY_BROKER_URL="filesystem://",
        PERFSUITE={"STORE": "local", "TASK_RETRY_BACKOFF_MAX": 86400},
    ):
        assert "perfsuite.W701" not in ids()


def test_w702_eager_outside_a_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert checks.running_tests()  # this is one: eager is fine here
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        assert "perfsuite.W702" not in ids()
        monkeypatch.setattr(checks, "running_tests", lambda: False)
        found = [m for m in run_checks() if m.id == "perfsuite.W702"]
        assert len(found) == 1 and found[0].hint
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        assert "perfsuite.W702" not in ids()


@pytest.mark.parametrize("expires", [None, 0, timedelta(0)])
def test_w703_results_that_never_expire(expires: object) -> None:
    with override_settings(CELERY_RESULT_BACKEND=REDIS, CELERY_RESULT_EXPIRES=expires):
        found = [m for m in run_checks() if m.id == "perfsuite.W703"]
        assert len(found) == 1 and found[0].hint
        with override_settings(CELERY_TASK_IGNORE_RESULT=True):
            assert "perfsuite.W703" not in ids()
    with override_settings(CELERY_RESULT_BACKEND="rpc://", CELERY_RESULT_EXPIRES=expires):
        assert "perfsuite.W703" not in ids()


def test_w703_quiet_with_an_expiry_or_the_default() -> None:
    with override_settings(CELERY_RESULT_BACKEND=REDIS, CELERY_RESULT_EXPIRES=3600):
        assert "perfsuite.W703" not in ids()
    assert "perfsuite.W703" not in ids()  # the test settings set none: Celery's 1 day


def test_the_test_settings_raise_none() -> None:
    assert ids() == []
