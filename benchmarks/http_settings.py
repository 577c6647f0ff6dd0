"""Demo-site settings for the HTTP benchmarks: DEBUG off, one middleware stack per
``PERFSUITE_BENCH_STACK`` (``bare`` drops every perfsuite middleware)."""

import os

from project.settings import *  # noqa: F403
from project.settings import MIDDLEWARE

DEBUG = False
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
if os.environ.get("PERFSUITE_BENCH_STACK") == "bare":
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("perfsuite.")]
LOGGING = {"version": 1, "disable_existing_loggers": False}
