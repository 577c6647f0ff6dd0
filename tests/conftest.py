from __future__ import annotations

import os
from collections.abc import Iterator

# hypothesis's pytest plugin imports hypothesis in pytest_terminal_summary; imported
# that late, after the asyncio/ASGI tests, CPython 3.11.7's compiler sometimes fails
# with "SystemError: AST constructor recursion depth mismatch". Import it up front.
import hypothesis  # noqa: F401
import pytest
from django.conf import settings

import perfsuite
from tests import routers
from tests.services import (
    PostgresServer,
    RedisServer,
    missing,
    postgres_bin_dir,
    redis_binary,
)


def _import_the_suite() -> None:
    """pytest rewrites the asserts of every module of a plugin's distribution (ours,
    through the perf_budget entry point) when it is imported; CPython 3.11.7's compiler
    may then fail ("AST constructor recursion depth mismatch") if that first import
    happens deep inside a test. Import every module now, while the stack is shallow."""
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(perfsuite.__path__, "perfsuite."):
        importlib.import_module(module.name)


_import_the_suite()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None or "postgres" not in settings.DATABASES:
        missing("PostgreSQL server (pg_ctl)", "postgresql")
    server = PostgresServer(bin_dir, int(settings.DATABASES["postgres"]["PORT"]))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):  # type: ignore[no-untyped-def]
    """Create test databases on SQLite, and on PostgreSQL when its binary is here."""
    from django.test.utils import setup_databases, teardown_databases

    aliases = {"default"}
    if "postgres" in settings.DATABASES and postgres_bin_dir() is not None:
        request.getfixturevalue("postgres_server")
        aliases.add("postgres")
    with django_db_blocker.unblock():
        names = setup_databases(verbosity=0, interactive=False, aliases=aliases)
    yield
    with django_db_blocker.unblock():
        teardown_databases(names, verbosity=0)


@pytest.fixture(params=["sqlite", "postgres"])
def db_alias(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Run a database test on SQLite and on PostgreSQL; route the ORM to that alias."""
    alias = "default" if request.param == "sqlite" else "postgres"
    if alias == "postgres":
        if "postgres" not in settings.DATABASES:
            missing("PostgreSQL server (pg_ctl)", "postgresql")
        request.getfixturevalue("postgres_server")
    request.getfixturevalue("django_db_setup")
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        raise pytest.UsageError("db_alias needs @pytest.mark.django_db(databases='__all__')")
    routers.ACTIVE["alias"] = alias
    yield alias
    routers.ACTIVE["alias"] = "default"


@pytest.fixture
def postgres_alias(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database test that needs a server database (concurrent writers): PostgreSQL only."""
    if "postgres" not in settings.DATABASES:
        missing("PostgreSQL server (pg_ctl)", "postgresql")
    request.getfixturevalue("postgres_server")
    request.getfixturevalue("django_db_setup")
    routers.ACTIVE["alias"] = "postgres"
    yield "postgres"
    routers.ACTIVE["alias"] = "default"


@pytest.fixture
def demo_database(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh PostgreSQL database of its own for a demo site in other processes (its
    ``DATABASE_URL``), dropped afterwards."""
    import psycopg

    name = f"perfsuite_demo_{os.getpid()}"
    admin = f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield f"postgres://postgres@127.0.0.1:{postgres_server.port}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = redis_binary()
    if binary is None:
        missing("redis-server", "redis-server")
    server = RedisServer(binary)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, to stop and restart (writes survive a restart)."""
    binary = redis_binary()
    if binary is None:
        missing("redis-server", "redis-server")
    server = RedisServer(binary, persist=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean Redis database for one test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield redis_server.url
    client.close()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Every test starts with empty caches: the demo site caches its pages."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_outbox_marks_left() -> Iterator[None]:
    """The outbox's batched marks of one test never reach the next test's database
    (their rows went with the test's; retried, they locked a later test's tables)."""
    yield
    from perfsuite.tasks.outbox_marks import marks

    marks.forget()
