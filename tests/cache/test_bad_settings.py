"""Settings that cannot break requests: each bad value is a check with an id, and at
run time (where checks may never have run) the request still gets its answer."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.test import AsyncClient, Client, override_settings

from perfsuite.core import metrics
from perfsuite.core.conf import perf_settings
from tests.cache.conftest import CACHE_MIDDLEWARE

pytestmark = pytest.mark.django_db


def check_ids() -> list[str]:
    return [m.id for m in run_checks() if m.id]


def get(server: str, path: str) -> Any:
    if server == "wsgi":
        return Client().get(path)
    return async_to_sync(AsyncClient().get)(path)


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_an_unknown_cache_alias_serves_uncached(server: str) -> None:
    with override_settings(
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE={"STORE": "local", "CACHE_ALIAS": "nope"},
    ):
        assert "perfsuite.E501" in check_ids()
        for _ in range(2):
            response = get(server, "/page/")
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "BYPASS"
            assert "detail=misconfigured" in response.headers["Cache-Status"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0])
def test_a_flush_interval_that_would_spin_or_stop_the_flusher(value: float) -> None:
    with override_settings(PERFSUITE={"STORE": "local", "FLUSH_INTERVAL": value}):
        assert "perfsuite.E002" in check_ids()
        assert perf_settings.FLUSH_INTERVAL == 1.0, "the default is used at run time"
    metrics.registry.configure()


@pytest.mark.parametrize(
    "origin", ["https://a.example\r\nSet-Cookie: x=1", "https://a.example\n", "\x00", ""]
)
def test_a_timing_allow_origin_with_control_characters(origin: str, caplog) -> None:  # type: ignore[no-untyped-def]
    with override_settings(
        ROOT_URLCONF="tests.perf_monitor.urls",
        PERFSUITE={"STORE": "local", "TIMING_ALLOW_ORIGIN": origin},
    ):
        assert "perfsuite.E002" in check_ids()
        with caplog.at_level(logging.WARNING, logger="perfsuite"):
            response = Client().get("/ok/")
        assert response.status_code == 200
        assert "Timing-Allow-Origin" not in response.headers
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize("url", ["http://x", "x", 5])
def test_a_redis_url_that_is_not_redis(url: object) -> None:
    with override_settings(PERFSUITE={"STORE": "local", "REDIS_URL": url}):
        assert "perfsuite.E002" in check_ids()
    metrics.registry.configure()


def test_a_cache_exclude_path_without_its_leading_slash() -> None:
    with override_settings(PERFSUITE={"STORE": "local", "CACHE_EXCLUDE_PATHS": ["admin/"]}):
        assert "perfsuite.W502" in check_ids()
    with override_settings(PERFSUITE={"STORE": "local", "CACHE_EXCLUDE_PATHS": ["/admin/"]}):
        assert "perfsuite.W502" not in check_ids()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CACHE_SOCKET_TIMEOUT", 0),
        ("CACHE_SOCKET_TIMEOUT", float("nan")),
        ("CACHE_BREAKER_BASE", -1),
        ("CACHE_BREAKER_MAX", float("inf")),
        ("CACHE_IGNORED_COOKIES", "_ga"),
    ],
)
def test_the_new_cache_settings_are_validated(key: str, value: object) -> None:
    with override_settings(PERFSUITE={"STORE": "local", key: value}):
        assert "perfsuite.E002" in check_ids()
