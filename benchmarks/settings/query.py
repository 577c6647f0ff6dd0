"""Settings of bench_query_opt.py: the test settings, plus django-zeal for comparison."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
ZEAL_RAISE = False
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DATABASE_ROUTERS: list[str] = []
