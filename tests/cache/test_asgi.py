"""ASGI: hits go through redis.asyncio, never the sync cache API; unreachable Redis answers."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.test import override_settings

from perfsuite.cache.redis_backend import RedisBackend
from tests.cache.conftest import CACHE_MIDDLEWARE, redis_caches

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


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
