"""The connection pool you can see: statistics read defensively, the dashboard panel, the
``dbpool`` command and checks W301 and E303, on a real PostgreSQL with Django's pool.

Forks (W302) are in test_pool_fork.py, gunicorn with two workers in test_pool_gunicorn.py.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import django
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.utils import ConnectionHandler
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.query_opt.checks import server_threads
from perfsuite.query_opt.pool import read_stats, sampler
from project.settings import MIDDLEWARE as DEMO_MIDDLEWARE

pytestmark = pytest.mark.django_db(databases="__all__")
DATABASES_WARNING = "ignore:Overriding setting DATABASES"


@pytest.fixture
def pooled(postgres_alias: str) -> Iterator[str]:
    """The PostgreSQL alias (pooled in tests/settings.py), counting from zero."""
    with connections[postgres_alias].cursor() as cursor:
        cursor.execute("SELECT 1")  # this test's own connection is out of the pool
    sampler.sample()  # what earlier tests did is counted before the reset
    metrics.registry.reset()
    with override_settings(PERFSUITE={"STORE": "local"}):
        yield postgres_alias


def use_pool(alias: str, times: int) -> None:
    """``times`` connections taken from the pool and given back, each by a thread of its own."""

    def work() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        connections[alias].close()  # back to the pool

    for _ in range(times):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()


def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("dba", "dba@example.com", "pw"))
    return client


def feed(client: Client) -> dict[str, Any]:
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE):
        data = client.get("/admin/performance/data.json?window=5m").json()
    return next(p for p in data["panels"] if p["id"] == "query_opt_pool")["stats"]


def until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 15) -> Any:
    """Read until ``done`` (the sampler reads pools every FLUSH_INTERVAL, 1 s)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def alias_row(stats: dict[str, Any], alias: str) -> dict[str, Any] | None:
    return next((row for row in stats["aliases"] if row["alias"] == alias), None)


# -- reading get_stats() defensively ------------------------------------------------
class FakePool:
    min_size = 2
    max_size = 8

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    def get_stats(self) -> Any:
        if isinstance(self.stats, Exception):
            raise self.stats
        return self.stats


def test_missing_or_odd_keys_are_absent_never_an_error() -> None:
    assert read_stats(FakePool(RuntimeError("gone"))) == {"min_size": 2, "max_size": 8}
    assert read_stats(FakePool(None)) == {"min_size": 2, "max_size": 8}
    figures = read_stats(
        FakePool({"pool_size": 3, "pool_available": 1, "requests_num": "7", "pool_min": True})
    )
    assert figures == {"size": 3, "idle_size": 1, "available": 1, "min_size": 2, "max_size": 8}
    full = {
        **{"pool_min": 1, "pool_max": 4, "pool_size": 2, "pool_available": 1},
        **{"requests_waiting": 0, "requests_num": 5, "requests_wait_ms": 12},
        **{"requests_errors": 1, "connections_lost": 2, "usage_ms": 99},
    }
    figures = read_stats(FakePool(full))
    assert {k: figures[k] for k in ("size", "min_size", "max_size", "idle_size")} == {
        "size": 2,
        "min_size": 1,
        "max_size": 4,
        "idle_size": 1,
    }
    assert figures["requests"] == 5 and figures["wait_ms"] == 12 and figures["errors"] == 1
    assert figures["connections_lost"] == 2 and "usage_ms" not in figures


def test_a_real_pool_reads_the_guides_keys(pooled: str) -> None:
    use_pool(pooled, 1)
    figures = read_stats(connections[pooled].pool)
    assert figures["min_size"] == 1 and figures["max_size"] == 4
    assert figures["size"] >= 1 and 0 <= figures["idle_size"] <= figures["size"]
    assert figures["requests"] >= 1 and figures["waiting"] == 0


# -- the dashboard panel --------------------------------------------------------------
def test_the_panel_shows_the_pool_of_this_process(pooled: str) -> None:
    client = staff()
    use_pool(pooled, 5)
    stats = until(lambda: feed(client), lambda s: (alias_row(s, pooled) or {}).get("requests") == 5)
    row = alias_row(stats, pooled)
    assert row is not None, stats
    assert row["requests"] == 5  # exactly the connections handed out since the reset
    assert row["processes"] == 1 and stats["processes"] == 1
    assert row["min_size"] == 1 and row["max_size"] == 4
    assert row["size"] >= 1 and row["idle_size"] is not None and row["waiting"] == 0
    assert row["errors"] == 0 and row["connections_lost"] == 0
    assert row["wait_ms_mean"] is not None and row["wait_ms_mean"] >= 0
    assert pooled in stats["configured"]
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE):
        page = client.get("/admin/performance/").content.decode()
    assert "Connection pool" in page
    assert f'data-pool-alias="{pooled}"' in page
    assert '<td data-pool-stat="requests">5</td>' in page


def test_the_panel_without_a_pool_says_so() -> None:
    metrics.registry.reset()
    client = staff()
    with override_settings(PERFSUITE={"STORE": "local"}):
        stats = feed(client)
        with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=DEMO_MIDDLEWARE):
            page = client.get("/admin/performance/").content.decode()
    assert stats["aliases"] == []
    if "postgres" in settings.DATABASES:  # configured, nothing reported since the reset
        assert "No pool statistics yet" in page
    else:
        assert "No connection pool configured" in page


# -- dbpool ---------------------------------------------------------------------------
def dbpool(*args: str) -> str:
    out = io.StringIO()
    call_command("dbpool", *args, stdout=out)
    return out.getvalue()


def test_dbpool_json_has_the_guides_keys(pooled: str) -> None:
    use_pool(pooled, 3)
    data = until(
        lambda: json.loads(dbpool("--json")),
        lambda d: any(r["alias"] == pooled and r.get("requests") == 3 for r in d["databases"]),
    )
    rows = {row["alias"]: row for row in data["databases"]}
    row = rows[pooled]
    assert row["pool"] is True and row["vendor"] == "postgresql"
    assert {"size", "min_size", "max_size", "idle_size"} <= set(row)
    assert row["min_size"] == 1 and row["max_size"] == 4
    assert row["size"] >= 1 and row["processes"] == 1 and row["requests"] == 3
    assert rows["default"]["pool"] is False
    assert "not PostgreSQL" in rows["default"]["message"]
    one = json.loads(dbpool("--json", "--database", pooled))
    assert [r["alias"] for r in one["databases"]] == [pooled]


def test_dbpool_text(pooled: str) -> None:
    use_pool(pooled, 1)

    def reported(text: str) -> bool:
        return any(line.split()[:2] == [pooled, "1"] for line in text.splitlines() if line)

    text = until(dbpool, reported)  # one process reported
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("database"))
    assert header.split() == [
        *("database", "processes", "size", "min", "max", "idle", "waiting", "requests"),
        *("wait", "ms", "errors", "lost"),
    ]
    row = next(line for line in lines if line.startswith(f"{pooled} ")).split()
    assert row[1] == "1" and row[3:5] == ["1", "4"]  # one process; min 1, max 4
    assert "not PostgreSQL" in dbpool("--database", "default")


def test_dbpool_mistakes_and_no_pool() -> None:
    with pytest.raises(CommandError, match="unknown database"):
        dbpool("--database", "nope")
    with pytest.raises(CommandError, match="--window"):
        dbpool("--window", "2m")


@pytest.mark.filterwarnings(DATABASES_WARNING)
def test_dbpool_says_when_no_pool_is_configured(postgres_alias: str) -> None:
    unpooled = {k: v for k, v in settings.DATABASES[postgres_alias].items() if k != "OPTIONS"}
    databases = {"default": settings.DATABASES["default"], postgres_alias: unpooled}
    with override_settings(DATABASES=databases):
        text = dbpool()
        data = json.loads(dbpool("--json"))
    assert "default: sqlite database, not PostgreSQL" in text
    assert f"{postgres_alias}: no connection pool configured" in text
    assert [row["pool"] for row in data["databases"]] == [False, False]


# -- checks W301 and E303 -------------------------------------------------------------
def ids() -> list[str]:
    return [m.id for m in run_checks() if m.id and m.id.startswith("perfsuite.")]


def test_server_threads_from_gunicorn_args() -> None:
    assert server_threads([], {}) is None
    assert server_threads([], {"GUNICORN_CMD_ARGS": "-w 2 --threads 8"}) == 8
    assert server_threads([], {"GUNICORN_CMD_ARGS": "--threads=3 -b :8000"}) == 3
    assert server_threads(["/venv/bin/gunicorn", "--threads", "6", "app"], {}) == 6
    assert server_threads(["manage.py", "--threads", "6"], {}) is None  # not gunicorn
    assert server_threads([], {"GUNICORN_CMD_ARGS": "--threads 'x"}) is None


def test_w301_pool_smaller_than_the_server_threads(
    postgres_alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--threads 8")  # the pool holds at most 4
    assert "perfsuite.W301" in ids()
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--threads 4")
    assert "perfsuite.W301" not in ids()
    monkeypatch.delenv("GUNICORN_CMD_ARGS")
    assert "perfsuite.W301" not in ids()


def connect_with(config: dict[str, Any]) -> Exception | None:
    """Connect as Django does with this configuration; the error, or None."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.dummy"}, "e303": config})
    wrapper = handler["e303"]
    try:
        wrapper.ensure_connection()
    except Exception as exc:
        return exc
    finally:
        wrapper.close()
        if type(wrapper)._connection_pools.get("e303") is not None:
            wrapper.close_pool()
    return None


@pytest.mark.filterwarnings(DATABASES_WARNING)
def test_e303_a_pool_check_that_collides(postgres_alias: str) -> None:
    from psycopg_pool import ConnectionPool

    base = dict(settings.DATABASES[postgres_alias])
    mine = {**base, "OPTIONS": {"pool": {"min_size": 1, "check": ConnectionPool.check_connection}}}
    with override_settings(DATABASES={"default": settings.DATABASES["default"], "pg": mine}):
        fired = "perfsuite.E303" in ids()
    error = connect_with(mine)
    collides = isinstance(error, TypeError) and "check" in str(error)
    assert fired == collides, error  # the check says exactly what connecting does
    if django.VERSION[:2] <= (5, 2):
        assert collides  # Django passes check= itself and unpacks the user's beside it
    plain = {**base, "CONN_HEALTH_CHECKS": True, "OPTIONS": {"pool": {"min_size": 1}}}
    with override_settings(DATABASES={"default": settings.DATABASES["default"], "pg": plain}):
        assert "perfsuite.E303" not in ids()
    assert connect_with(plain) is None
    assert "perfsuite.E303" not in ids()  # the test settings' pool has no check


def test_w304_the_app_without_its_middleware() -> None:
    def ids() -> set[str]:
        return {m.id for m in run_checks() if m.id}

    assert "perfsuite.W304" not in ids(), "the demo's MIDDLEWARE has it"
    without = [m for m in DEMO_MIDDLEWARE if "QueryInstrumentation" not in m]
    with override_settings(MIDDLEWARE=without):
        assert "perfsuite.W304" in ids()
