"""Settings of bench_query_opt_db.py: the test settings on a PostgreSQL server the
benchmark started (``BENCH_PG_PORT``), no pool (the pool has its own benchmark), no
response cache."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["BENCH_PG_PORT"],
        "USER": "postgres",
        "NAME": "perfsuite",
    }
}
DATABASE_ROUTERS: list[str] = []
PERFSUITE = {"STORE": "local", "N_PLUS_ONE_MODE": "off", "SERVER_TIMING_DETAILS": "all"}
# every request runs its view: no response cache in front of the pages measured
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("perfsuite.cache.")]
