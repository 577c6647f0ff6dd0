"""Checks of query_opt's connection pools (ids ``perfsuite.W3xx``/``E3xx``, docs/checks.md).

- ``W301``: a pool's ``max_size`` is below the server's threads per process (gunicorn's
  ``--threads``, read from ``GUNICORN_CMD_ARGS`` or gunicorn's own command line): a
  thread beyond it waits for a connection, up to the pool's ``timeout``.
- ``W302``: this process was forked from one with an open pool (it dropped the pool
  and opened its own): e.g. a query at import time in a gunicorn master started with
  ``--preload``.
- ``E303``: ``OPTIONS["pool"]`` has a ``check`` and this Django passes its own
  ``check=`` beside it: the first connection fails with a ``TypeError``.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from typing import Any

from django.core.checks import CheckMessage, Error, Warning

from perfsuite.core.checks import middleware, position

from .pool import forks, pool_options, pooled_aliases

#: psycopg_pool's default ``min_size``; ``max_size`` defaults to ``min_size``
DEFAULT_MIN_SIZE = 4


def server_threads(
    argv: list[str] | None = None, env: Mapping[str, str] | None = None
) -> int | None:
    """gunicorn's ``--threads`` from ``GUNICORN_CMD_ARGS`` or gunicorn's command line."""
    environ = os.environ if env is None else env
    argv = sys.argv if argv is None else argv
    try:
        sources = [shlex.split(environ.get("GUNICORN_CMD_ARGS", "") or "")]
    except ValueError:  # unbalanced quotes: gunicorn would not start either
        sources = []
    if argv and os.path.basename(argv[0]).startswith("gunicorn"):
        sources.append(list(argv[1:]))
    threads = None
    for args in sources:
        for i, arg in enumerate(args):
            value = None
            if arg == "--threads" and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith("--threads="):
                value = arg.split("=", 1)[1]
            if value is not None and value.strip().isdigit():
                threads = int(value)
    return threads


def max_size_of(options: dict[str, Any]) -> int:
    max_size = options.get("max_size")
    if isinstance(max_size, int) and max_size > 0:
        return max_size
    min_size = options.get("min_size", DEFAULT_MIN_SIZE)
    return min_size if isinstance(min_size, int) else DEFAULT_MIN_SIZE


def check_pool_size(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    threads = server_threads()
    if not threads:
        return []
    messages: list[CheckMessage] = []
    for alias in pooled_aliases():
        size = max_size_of(pool_options(alias) or {})
        if size < threads:
            messages.append(
                Warning(
                    f"The connection pool of database {alias!r} holds at most {size} "
                    f"connections but the server runs {threads} threads per process: "
                    "requests beyond it wait for a connection.",
                    hint=f"Set DATABASES[{alias!r}]['OPTIONS']['pool']['max_size'] >= {threads}.",
                    id="perfsuite.W301",
                )
            )
    return messages


def check_fork(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In a child of a process that forked with a pool open (the parent only logs it:
    it may be a test runner or a supervisor that never serves a request)."""
    return [
        Warning(
            f"This process inherited the open connection pool of database {alias!r} "
            f"from process {parent}, which had opened it before forking; this process "
            "dropped it and opened its own.",
            hint="Do not query the database before forking (gunicorn --preload, Celery "
            "prefork): connect in the workers, or close the pool first with "
            "connections[alias].close_pool().",
            id="perfsuite.W302",
        )
        for alias, parent in sorted(forks.inherited.items())
    ]


def check_pool_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias in pooled_aliases():
        options = pool_options(alias) or {}
        if "check" in options and check_collides(alias):
            messages.append(
                Error(
                    f"DATABASES[{alias!r}]['OPTIONS']['pool'] sets 'check', which this "
                    "Django version also passes to the pool: connecting fails with "
                    "TypeError (multiple values for 'check').",
                    hint="Remove 'check' and set CONN_HEALTH_CHECKS = True (the pool then "
                    "checks each connection), or upgrade to a Django that lets a pool "
                    "'check' override it.",
                    id="perfsuite.E303",
                )
            )
    return messages


def check_collides(alias: str) -> bool:
    """Build (never open) the pool as this Django does: does it reject our ``check``?"""
    import copy

    from django.conf import settings
    from django.db.utils import DEFAULT_DB_ALIAS, ConnectionHandler, load_backend

    probe_alias = f"__perfsuite_probe_{alias}"
    try:
        config = copy.deepcopy(settings.DATABASES[alias])
        normalized = ConnectionHandler({DEFAULT_DB_ALIAS: config}).settings[DEFAULT_DB_ALIAS]
        wrapper_class = load_backend(normalized["ENGINE"]).DatabaseWrapper
        probe = wrapper_class(normalized, alias=probe_alias)
    except Exception:
        return False
    try:
        probe.pool  # noqa: B018 - creating it is the test
    except TypeError as exc:
        return "check" in str(exc)
    except Exception:
        return False
    finally:
        pools = getattr(wrapper_class, "_connection_pools", None)
        if isinstance(pools, dict):
            pools.pop(probe_alias, None)  # never opened: nothing to close
    return False


MIDDLEWARE = "perfsuite.query_opt.middleware.QueryInstrumentationMiddleware"


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W304: the app is installed but its middleware is not, so nothing is counted."""
    if position(MIDDLEWARE, middleware()) is not None:
        return []
    return [
        Warning(
            "perfsuite.query_opt is installed but QueryInstrumentationMiddleware is not in "
            "MIDDLEWARE: no request's queries are counted and no N+1 is found.",
            hint=f"Add {MIDDLEWARE!r} after PerformanceMiddleware and StaticFilesMiddleware.",
            id="perfsuite.W304",
        )
    ]


CHECKS = (check_pool_size, check_fork, check_pool_check, check_middleware)
