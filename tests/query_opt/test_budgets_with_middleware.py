"""Query budgets around test-client requests with the documented middleware stack
(the demo's, ``QueryInstrumentationMiddleware`` in it), as a user writes them: the
budget must see every query of the request, under the sync and the async client,
nested in either order with the middleware's own log, and fail when exceeded.

Before, the middleware's log replaced the budget's for the request, so a budget of 0
passed around a request that ran queries.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management import call_command
from django.test import AsyncClient, Client

from perfsuite.query_opt.budgets import QueryBudgetExceeded, assert_max_queries, budget
from perfsuite.query_opt.instrumentation import QueryLog, begin, end
from project.shop.models import Post

pytestmark = pytest.mark.django_db

MIDDLEWARE = "perfsuite.query_opt.middleware.QueryInstrumentationMiddleware"


@pytest.fixture
def user_page(db: Any) -> str:
    assert MIDDLEWARE in settings.MIDDLEWARE, "the documented stack"
    call_command("seed_demo", products=1, users=5, posts=10, stdout=io.StringIO())
    author = Post.objects.order_by("pk").values_list("author", flat=True).first()
    return f"/users/{author}/"


def get(kind: str, path: str) -> Any:
    if kind == "sync":
        return Client().get(path)
    return async_to_sync(AsyncClient().get)(path)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_budget_sees_every_query_of_the_request(kind: str, user_page: str) -> None:
    with assert_max_queries(100) as log:
        assert get(kind, user_page).status_code == 200
    assert 1 <= log.count <= 3, log.statements
    over = pytest.raises(QueryBudgetExceeded, match="over the budget of 0")
    with over as failed, assert_max_queries(0):
        get(kind, user_page + "?again")  # not a cached page
    assert "SELECT" in str(failed.value)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_decorator_fails_over_its_budget(kind: str, user_page: str) -> None:
    @budget(queries=0)
    def visit() -> int:
        return get(kind, user_page).status_code

    with pytest.raises(QueryBudgetExceeded):
        visit()


def test_nested_either_way_with_a_request_log(user_page: str) -> None:
    outer = QueryLog(threshold=1 << 30)
    token = begin(outer)  # a request log current first, then a budget inside it
    try:
        with assert_max_queries(10) as inner:
            Post.objects.count()
            Post.objects.exists()
    finally:
        end(token)
    assert inner.count == 2 and outer.count == 2
    with assert_max_queries(10) as first, assert_max_queries(10) as second:
        token = begin(QueryLog(threshold=1 << 30))  # a budget first, then a request log
        try:
            Post.objects.count()
        finally:
            end(token)
    assert first.count == second.count == 1
