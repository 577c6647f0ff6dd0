"""A small site for the gunicorn recycling tests (tests/memory/test_gunicorn_server.py),
run by gunicorn in processes of its own: the memory app, a leak view, no database use.

Its environment: ``MEMORY_TEST_SQLITE`` (the shared metrics file), ``MEMORY_TEST_DB``
(a SQLite database file), ``MEMORY_TEST_RECYCLE_MB`` (the limit; unset: off).
"""

import os

DEBUG = False
SECRET_KEY = "tests-only-memory-server-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
INSTALLED_APPS = ["perfsuite.memory"]
MIDDLEWARE = ["perfsuite.memory.middleware.MemoryMiddleware"]
ROOT_URLCONF = "tests.memory.server_urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MEMORY_TEST_DB", ":memory:"),
    }
}
_limit = os.environ.get("MEMORY_TEST_RECYCLE_MB")
PERFSUITE = {
    "STORE": "sqlite",
    "SQLITE_PATH": os.environ.get("MEMORY_TEST_SQLITE", ""),
    "FLUSH_INTERVAL": 0.2,
    "MEMORY_RECYCLE_RSS_MB": float(_limit) if _limit else None,
}
