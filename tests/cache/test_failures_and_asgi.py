"""Redis down, Redis back; ASGI hits that never touch the sync cache API."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.test import Client, override_settings

from perfsuite.cache.redis_backend import RedisBackend
from perfsuite.core import metrics
from tests.cache.conftest import CACHE_MIDDLEWARE, redis_caches
from tests.services import RedisServer

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def test_redis_outage_serves_uncached_then_resumes(
    own_redis: RedisServer, caplog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfsuite.cache import steps

    steps.warnings.reset()  # no warning from an earlier test
    with override_settings(
        CACHES=redis_caches(own_redis.url),
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE={"STORE": "local", "CACHE_BREAKER_BASE": 0.2, "CACHE_BREAKER_MAX": 0.4},
    ):
        client = Client()
        assert client.get("/page/").headers["X-Cache"] == "MISS"
        assert client.get("/page/").headers["X-Cache"] == "HIT"
        own_redis.stop()
        for _ in range(3):
            response = client.get("/page/")
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "BYPASS"
            assert "detail=backend-error" in response.headers["Cache-Status"]
        warnings = [r for r in caplog.records if "backend failed" in r.getMessage()]
        assert len(warnings) == 1, "warned once per interval, not per request"
        snap = metrics.registry.snapshot()
        errors = snap.counter_total("perfsuite_cache_backend_errors")
        skipped = snap.counter_total("perfsuite_cache_backend_skipped")
        assert errors >= 1 and errors + skipped == 3
        own_redis.start()
        # caching resumes once the breaker lets a probe through: the entry stored
        # before the outage is served again...
        assert wait_for_header(client, "/page/", "HIT")
        # ...and new pages are stored
        assert client.get("/whoami/").headers["X-Cache"] == "MISS"
        assert client.get("/whoami/").headers["X-Cache"] == "HIT"


def wait_for_header(client: Client, path: str, value: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get(path).headers["X-Cache"] == value:
            return True
        time.sleep(0.05)
    return False


def test_asgi_hit_on_redis_uses_redis_asyncio(
    redis_url: str, async_client, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with override_settings(
        CACHES=redis_caches(redis_url), MIDDLEWARE=CACHE_MIDDLEWARE, ROOT_URLCONF="tests.cache.urls"
    ):
        caches["default"].clear()

        def no_sync(*args: object, **kwargs: object) -> None:
            raise AssertionError("the sync cache API was used on the ASGI path")

        monkeypatch.setattr(RedisBackend, "get_many", no_sync)
        monkeypatch.setattr(RedisBackend, "set", no_sync)
        monkeypatch.setattr(RedisBackend, "add", no_sync)
        first = async_to_sync(async_client.get)("/async-page/")
        second = async_to_sync(async_client.get)("/async-page/")
        assert first.headers["X-Cache"] == "MISS"
        assert second.headers["X-Cache"] == "HIT"
        assert second.content == first.content


def test_unreachable_redis_under_asgi_still_answers(async_client) -> None:  # type: ignore[no-untyped-def]
    from tests.services import free_port

    closed = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES=redis_caches(closed), MIDDLEWARE=CACHE_MIDDLEWARE, ROOT_URLCONF="tests.cache.urls"
    ):
        response = async_to_sync(async_client.get)("/async-page/")
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "BYPASS"
