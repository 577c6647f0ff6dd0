"""Every query of a request counted, timed and fingerprinted, on WSGI and ASGI.

One execute wrapper (Django's ``connection.execute_wrapper`` contract) is installed
on every database connection, once, as it is created. It records into the
:class:`QueryLog` of the current request, found through a context variable: under
ASGI the ORM runs in a ``sync_to_async`` thread, which runs in a copy of the
request's context, so the queries of that thread land in the same log. Outside a
request (management commands, Celery tasks) the wrapper costs one context-variable
lookup and records nothing.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

_perf_counter = time.perf_counter


@dataclass(slots=True)
class QueryLog:
    """The queries of one request (or one ``assert_max_queries`` block)."""

    threshold: int = 5
    #: called with (log, fingerprint, count) when a shape reaches the threshold
    on_repeat: Callable[[QueryLog, str, int], None] | None = None
    keep_sql: bool = False
    count: int = 0
    seconds: float = 0.0
    shapes: dict[str, int] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)
    silenced: int = 0
    #: the fingerprint of the latest query (what loaded an eager relation)
    last_shape: str = ""
    #: the request's unused-eager-load tracker (:mod:`.eager`), None when not tracked
    eager: Any = None
    #: the request's asyncio task under ASGI (where its ``await`` of the ORM is found)
    task: Any = None

    def duplicates(self) -> int:
        """Queries beyond the first of each SQL shape."""
        return sum(n - 1 for n in self.shapes.values() if n > 1)


_current: ContextVar[QueryLog | None] = ContextVar("perfsuite_query_log", default=None)
#: the logs of the budgets around this code (``assert_max_queries``), innermost last:
#: they see every query, whatever request log (the middleware's) is current
_budgets: ContextVar[tuple[QueryLog, ...]] = ContextVar("perfsuite_query_budgets", default=())


def begin(log: QueryLog) -> Token[QueryLog | None]:
    return _current.set(log)


def end(token: Token[QueryLog | None]) -> None:
    _current.reset(token)


def current() -> QueryLog | None:
    return _current.get()


def observe(log: QueryLog) -> Token[tuple[QueryLog, ...]]:
    """Count every query of this context into ``log`` too, beside the current log."""
    return _budgets.set((*_budgets.get(), log))


def unobserve(token: Token[tuple[QueryLog, ...]]) -> None:
    _budgets.reset(token)


@contextmanager
def silence_n_plus_one() -> Iterator[None]:
    """Repeats inside this block are not findings (a loop you mean), and relations
    loaded eagerly inside it are not tracked for unused eager loading."""
    log = _current.get()
    if log is not None:
        log.silenced += 1
    try:
        yield
    finally:
        if log is not None:
            log.silenced -= 1


_IN_LIST = re.compile(r"\(\s*%s(?:\s*,\s*%s)+\s*\)")
_NUMBER = re.compile(r"\b\d+\b")


@functools.lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """The shape of a statement: placeholder lists and literal numbers folded."""
    return _NUMBER.sub("N", _IN_LIST.sub("(%s, ...)", sql))


def _record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    log = _current.get()
    budgets = _budgets.get()
    if log is None and not budgets:
        return execute(sql, params, many, context)
    start = _perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = _perf_counter() - start
        shape = fingerprint(sql)
        if log is not None:
            _add(log, sql, shape, elapsed)
        for budget in budgets:
            if budget is not log:
                _add(budget, sql, shape, elapsed)


def _add(log: QueryLog, sql: str, shape: str, elapsed: float) -> None:
    log.seconds += elapsed
    log.count += 1
    seen = log.shapes.get(shape, 0) + 1
    log.shapes[shape] = seen
    log.last_shape = shape
    if log.keep_sql:
        log.statements.append(sql)
    if seen == log.threshold and log.on_repeat is not None and not log.silenced:
        log.on_repeat(log, shape, seen)


def install(connection: BaseDatabaseWrapper) -> None:
    """Put the recording wrapper on ``connection`` (idempotent)."""
    if _record not in connection.execute_wrappers:
        connection.execute_wrappers.append(_record)


def install_everywhere() -> None:
    """On the connections that exist now; :func:`_on_connect` does the later ones."""
    for connection in connections.all(initialized_only=True):
        install(connection)


@receiver(connection_created)
def _on_connect(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    install(connection)
