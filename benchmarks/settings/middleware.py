"""Minimal settings for in-process middleware benchmarks (no database)."""

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.settings.middleware_urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "perfsuite.perf_monitor",
]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
PERFSUITE = {"STORE": "local"}
LOGGING_CONFIG = None
