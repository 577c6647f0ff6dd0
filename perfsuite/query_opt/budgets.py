"""Query budgets for tests and CI: ``assert_max_queries`` and the pytest marker.

    from perfsuite.query_opt.budgets import assert_max_queries

    with assert_max_queries(3):
        client.get("/users/7/")

    @assert_max_queries(2, duplicates=0)
    def test_search(): ...

    @pytest.mark.perf_budget(queries=3, duplicates=0)   # the pytest plugin
    def test_user_page(client): ...

A block over budget fails with every statement it ran. Duplicates are queries
beyond the first of each SQL shape (parameters stripped): an N+1 loop of 50 has 49.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ContextDecorator
from typing import Any

from .instrumentation import QueryLog, install_everywhere, observe, unobserve


class QueryBudgetExceeded(AssertionError):
    """A block ran more queries (or duplicates) than its budget."""


class assert_max_queries(ContextDecorator):
    """Fail when the block runs more than ``queries`` queries (or ``duplicates``)."""

    def __init__(self, queries: int, *, duplicates: int | None = None) -> None:
        self.queries = queries
        self.duplicates = duplicates
        self.log = QueryLog(threshold=1 << 30, keep_sql=True)
        self._token: Any = None

    def __enter__(self) -> QueryLog:
        install_everywhere()
        self.log = QueryLog(threshold=1 << 30, keep_sql=True)
        self._token = observe(self.log)  # beside any request log, never instead
        return self.log

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        unobserve(self._token)
        if exc_type is not None:
            return
        log = self.log
        problems = []
        if log.count > self.queries:
            problems.append(f"{log.count} queries, over the budget of {self.queries}")
        if self.duplicates is not None and log.duplicates() > self.duplicates:
            problems.append(f"{log.duplicates()} duplicate queries, over {self.duplicates}")
        if problems:
            listing = "\n".join(f"  {n}. {sql}" for n, sql in enumerate(log.statements, 1))
            raise QueryBudgetExceeded("; ".join(problems) + ":\n" + listing)


def budget(queries: int, duplicates: int | None = None) -> Callable[[Callable[..., Any]], Any]:
    """``assert_max_queries`` as a plain decorator (keeps the wrapped signature)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with assert_max_queries(queries, duplicates=duplicates):
                return function(*args, **kwargs)

        return wrapper

    return decorate
