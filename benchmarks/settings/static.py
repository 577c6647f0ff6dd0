"""Settings of the static_opt benchmarks: no database, one static stack per env var.

- ``PERFSUITE_BENCH_STATIC``: ``ours`` (StaticFilesMiddleware), ``whitenoise``
  (WhiteNoiseMiddleware) or unset (no middleware; in-process runs override it).
- ``PERFSUITE_STATIC_ROOT``: the collected files; ``PERFSUITE_BENCH_SRC``: the sources.
- ``PERFSUITE_BENCH_STORAGE``: ``ours``, ``whitenoise`` or ``plain`` (manifest only).
"""

import os

SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.settings.middleware_urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "perfsuite.perf_monitor",  # the front door counts what it answers (its observer)
    "perfsuite.static_opt",
]
OURS = "perfsuite.static_opt.middleware.StaticFilesMiddleware"
WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"
MIDDLEWARE: list[str] = {"ours": [OURS], "whitenoise": [WHITENOISE]}.get(
    os.environ.get("PERFSUITE_BENCH_STATIC", ""), []
)
STORAGE_BACKENDS = {
    "ours": "perfsuite.static_opt.storage.CompressedManifestStaticFilesStorage",
    "whitenoise": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "plain": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": STORAGE_BACKENDS[os.environ.get("PERFSUITE_BENCH_STORAGE", "ours")]},
}
STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("PERFSUITE_STATIC_ROOT", "/nonexistent-static-root")
STATICFILES_DIRS = [p for p in [os.environ.get("PERFSUITE_BENCH_SRC")] if p]
DATABASES: dict = {}
USE_TZ = True
PERFSUITE = {"STORE": "local"}
if os.environ.get("PERFSUITE_BENCH_TIMING") == "0":  # bench_static_http: the headers' cost
    PERFSUITE.update(SERVER_TIMING=False, RESPONSE_TIME_HEADER=False)
LOGGING_CONFIG = None
SILENCED_SYSTEM_CHECKS = ["perfsuite.W601"]
