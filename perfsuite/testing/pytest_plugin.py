"""pytest plugin (entry point ``perfsuite``): ``@pytest.mark.perf_budget(queries=…, duplicates=…)``.

Installed with the package (``setup.cfg`` declares the ``pytest11`` entry point),
so any project's test suite can mark a test with its database budget; the test
fails with the statements it ran when it goes over. Memory and time budgets will
join the same marker.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "perf_budget(queries=None, duplicates=None): fail the test when it runs more "
        "database queries (or duplicate queries) than this (django-perfsuite)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    """Count the queries of the test function itself (not its fixtures' set-up)."""
    marker = item.get_closest_marker("perf_budget")
    if marker is None:
        return (yield)
    from perfsuite.query_opt.budgets import assert_max_queries

    queries = marker.kwargs.get("queries")
    limit = assert_max_queries(
        queries if queries is not None else 1 << 30, duplicates=marker.kwargs.get("duplicates")
    )
    limit.__enter__()
    try:
        result = yield
    except BaseException:
        limit.__exit__(*sys.exc_info())
        raise
    limit.__exit__(None, None, None)  # raises QueryBudgetExceeded over the budget
    return result
