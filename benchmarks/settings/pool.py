"""Settings of bench_query_opt_pool.py: one PostgreSQL server, reached pooled and unpooled."""

import os

from tests.settings import *  # noqa: F403

_server = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": "127.0.0.1",
    "PORT": os.environ.get("PERFSUITE_BENCH_PG_PORT", "5432"),
    "USER": "postgres",
    "NAME": "postgres",
}
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    # Django's psycopg pool, as project/env.py configures it from DATABASE_URL
    "pooled": {**_server, "OPTIONS": {"pool": {"min_size": 1, "max_size": 4}}},
    # a connection per request (CONN_MAX_AGE = 0, Django's default)
    "unpooled": {**_server, "CONN_MAX_AGE": 0},
}
DATABASE_ROUTERS: list[str] = []
ROOT_URLCONF = "benchmarks.settings.pool_urls"
MIDDLEWARE: list[str] = []
PERFSUITE = {"STORE": "local"}
