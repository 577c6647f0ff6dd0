"""perf_monitor's system checks (ids in docs/checks.md)."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

LATENCY_NAME = "perfsuite_http_request_seconds"
pytestmark = [pytest.mark.urls("tests.perf_monitor.urls"), pytest.mark.django_db]


def test_missing_middleware_is_a_warning() -> None:
    from django.conf import settings

    middleware = [m for m in settings.MIDDLEWARE if "PerformanceMiddleware" not in m]
    with override_settings(MIDDLEWARE=middleware):
        ids = [m.id for m in run_checks()]
    assert "perfsuite.W101" in ids
    moved = [*middleware, "perfsuite.perf_monitor.middleware.PerformanceMiddleware"]
    with override_settings(MIDDLEWARE=moved):
        ids = [m.id for m in run_checks()]
    assert "perfsuite.W102" in ids


def test_bad_prometheus_ips_setting_is_a_check_error() -> None:
    with override_settings(PERFSUITE={"PROMETHEUS_ALLOWED_IPS": ["999.1.1.1"]}):
        ids = [m.id for m in run_checks()]
    assert "perfsuite.E002" in ids
