"""Demo-site settings for the HTTP benchmarks: DEBUG off, one middleware stack per
``PERFSUITE_BENCH_STACK`` (``bare`` drops PerformanceMiddleware, nothing else)."""

import os

from project.settings import *  # noqa: F403
from project.settings import MIDDLEWARE

DEBUG = False
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
if os.environ.get("PERFSUITE_BENCH_STACK") == "bare":
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.endswith(".PerformanceMiddleware")]
LOGGING = {"version": 1, "disable_existing_loggers": False}
if os.environ.get("PERFSUITE_BENCH_NOCACHE") == "1":
    PERFSUITE = {**PERFSUITE, "CACHE_EXCLUDE_PATHS": ["/"]}  # noqa: F405
