"""Settings for the in-process cache benchmarks (no database needed for hits)."""

import os

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.settings.cache_urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "perfsuite.perf_monitor",  # the front door counts its hits (its observer)
    "perfsuite.cache",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    },
}
PERFSUITE = {"STORE": "local"}
LOGGING_CONFIG = None
