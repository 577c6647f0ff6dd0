"""Minimal settings for in-process middleware benchmarks (no database)."""

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.settings.middleware_urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",  # Django's default stack (bench_perf_monitor)
    "django.contrib.messages",
    "perfsuite.perf_monitor",
]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
PERFSUITE = {"STORE": "local"}
LOGGING_CONFIG = None
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"  # no database
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
