"""Settings of the test run: the demo site with an in-memory SQLite database.

When a PostgreSQL server binary is on this machine, a second alias ``postgres``
points at the server that ``tests/conftest.py`` starts on a free port; the
``db_alias`` fixture runs database tests on both through ``tests.routers``.
"""

import atexit
import shutil
import tempfile
from pathlib import Path

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS
from tests.services import free_port, postgres_bin_dir

DEBUG = False
SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}
if postgres_bin_dir() is not None:
    DATABASES["postgres"] = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "USER": "postgres",
        "NAME": "perfsuite",
        "TEST": {"NAME": "test_perfsuite"},
        # Django's psycopg pool, as in production (query_opt's pool tests read it)
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 4}},
    }
DATABASE_ROUTERS = ["tests.routers.ActiveAliasRouter"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# An N+1 in any test request fails it (the demo only logs them).
# No run history written from a background thread into the test database (the
# worker tests' processes record it; tests/tasks/test_runs.py drives the writer).
PERFSUITE = {"STORE": "local", "N_PLUS_ONE_MODE": "raise", "TASK_RUN_HISTORY": False}
# Never the checkout's own staticfiles/ (which `make demo` fills): tests that need
# collected files collect into roots of their own.
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="perfsuite-test-static-"))
atexit.register(shutil.rmtree, STATIC_ROOT, ignore_errors=True)

# The test run has DEBUG off and runs no collectstatic (static_opt's tests collect
# into their own roots); W603 says exactly that and is tested on its own.
SILENCED_SYSTEM_CHECKS = ["perfsuite.W603"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
INSTALLED_APPS = list(INSTALLED_APPS)
