"""The demo site switches its parts by environment variables only."""

from __future__ import annotations

import json

import pytest

from tests.helpers import demo_env, manage, run_python

DUMP = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "host": db.get("HOST"),
    "port": db.get("PORT"),
    "pool": db.get("OPTIONS", {}).get("pool"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "broker": settings.CELERY_BROKER_URL,
    "results": settings.CELERY_RESULT_BACKEND,
    "perfsuite": settings.PERFSUITE,
    "debug": settings.DEBUG,
}))
"""


#: the demo checks memory often, so its leak view shows a cleanup within a few clicks
DEMO_MEMORY = {
    "MEMORY_CHECK_EVERY_REQUESTS": 5,
    "MEMORY_CHECK_INTERVAL": 2.0,
    "MEMORY_THRESHOLD_MB": 400,
}


def dump(**env: str) -> dict:
    result = run_python(DUMP, demo_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_gives_embedded_defaults(tmp_path) -> None:
    got = dump(PERFSUITE_VAR_DIR=str(tmp_path))
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["name"].endswith("db.sqlite3")
    assert got["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert got["broker"] == "filesystem://"
    assert got["results"].startswith("file://")
    # the demo shows every Server-Timing entry while DEBUG is on (the default)
    # one dashboard for the web server and the worker: the sqlite store under var/
    assert got["perfsuite"] == {
        "STORE": "sqlite",
        "SQLITE_PATH": str(tmp_path / "metrics.sqlite3"),
        "SERVER_TIMING_DETAILS": "all",
        **DEMO_MEMORY,
    }
    assert got["debug"] is True


def test_database_url_selects_postgres_with_pool() -> None:
    got = dump(DATABASE_URL="postgres://shop:secret@127.0.0.1:5433/shopdb")
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["name"] == "shopdb"
    assert got["host"] == "127.0.0.1"
    assert str(got["port"]) == "5433"
    assert got["pool"], "Django's connection pool must be enabled"
    assert got["cache"].endswith("LocMemCache")


def test_redis_url_selects_django_redis_broker_and_metrics_store() -> None:
    url = "redis://127.0.0.1:6390/2"
    got = dump(REDIS_URL=url)
    assert got["cache"] == "django_redis.cache.RedisCache"
    assert got["cache_location"] == url
    assert got["broker"] == url
    assert got["results"] == url
    assert got["perfsuite"] == {
        "STORE": "redis",
        "REDIS_URL": url,
        "COMPONENT_CACHE_ALIAS": "default",
        "SERVER_TIMING_DETAILS": "all",
        **DEMO_MEMORY,
    }
    assert got["engine"] == "django.db.backends.sqlite3"


def test_debug_off_requires_a_secret_key() -> None:
    result = manage("check", env=demo_env(DJANGO_DEBUG="0"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "postgres://user@127.0.0.1:notaport/db"),
        ("DATABASE_URL", "mysql://user@127.0.0.1/db"),
        ("DATABASE_URL", "postgres://127.0.0.1:5432/"),
        ("DATABASE_URL", "just-garbage"),
        ("REDIS_URL", "redis://127.0.0.1:99999999/0"),
        ("REDIS_URL", "http://127.0.0.1:6379/0"),
        ("REDIS_URL", "redis://127.0.0.1:6379/notadb"),
        ("DJANGO_DEBUG", "maybe"),
    ],
)
def test_malformed_variable_stops_with_one_clear_line(variable: str, value: str) -> None:
    result = manage("check", env=demo_env(**{variable: value}))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_a_fresh_checkout_without_var_can_migrate(tmp_path) -> None:
    var = tmp_path / "not" / "there" / "yet"
    result = manage("migrate", "--noinput", env=demo_env(PERFSUITE_VAR_DIR=str(var)))
    assert result.returncode == 0, result.stderr
    assert (var / "db.sqlite3").is_file()


SERVER_ERROR = """
import sys, types
import django
django.setup()
from django.test import Client, override_settings
from django.urls import path

def boom(request):
    raise RuntimeError("a bug in a view")

urls = types.ModuleType("boom_urls")
urls.urlpatterns = [path("boom/", boom)]
sys.modules["boom_urls"] = urls
with override_settings(ROOT_URLCONF="boom_urls"):
    print(Client(raise_request_exception=False).get("/boom/").status_code)
"""


@pytest.mark.parametrize("debug", ["0", "1"])
def test_the_traceback_of_a_500_reaches_the_servers_log(debug: str) -> None:
    env = demo_env(
        DJANGO_DEBUG=debug,
        DJANGO_SECRET_KEY="log-test-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    result = run_python(SERVER_ERROR, env)
    assert result.stdout.strip() == "500", result.stderr
    assert result.stderr.count("RuntimeError: a bug in a view") == 1, result.stderr
    assert "Internal Server Error: /boom/" in result.stderr
