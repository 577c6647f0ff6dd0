from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from perfsuite.core import metrics
from tests.cache import urls

CACHE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "perfsuite.perf_monitor.middleware.PerformanceMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "perfsuite.cache.middleware.ResponseCacheMiddleware",
]


def redis_caches(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Run a test on local memory and on a real Redis through django-redis."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        caches_setting = redis_caches(url)
    else:
        caches_setting = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"rc-{request.node.name}",
            }
        }
    with override_settings(
        CACHES=caches_setting,
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        MESSAGE_STORAGE="django.contrib.messages.storage.cookie.CookieStorage",
    ):
        caches["default"].clear()
        yield request.param
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _reset_counts() -> Iterator[None]:
    urls.RENDERS.clear()
    metrics.registry.reset()
    yield


__all__ = ["CACHE_MIDDLEWARE", "redis_caches", "settings"]
