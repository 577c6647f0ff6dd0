"""``OptimizedQuerySet`` / ``OptimizedManager``: the guide's ``OptimizedUserQuery``.

For a user model with the demo's relations (a one-to-one ``profile`` and posts by
a foreign key ``author`` with ``related_name="posts"``; other names through the
class attributes), as a model's manager or for a model you do not own::

    class Author(AbstractUser):
        objects = OptimizedManager()

    users = OptimizedQuerySet.for_model(get_user_model())
    users.with_recent_posts(7)        # 2 queries, never N+1
    users.with_post_counts()          # a Subquery: right beside other aggregates
    users.search("ali", page=2)       # the guide's dict

Each has an ``a``-prefixed async twin.
"""

from __future__ import annotations

import json
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.models import (
    Count,
    IntegerField,
    Manager,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from . import search as text_search
from .fetch_modes import FetchModeMixin

MAX_PAGE_SIZE = 100
#: with count="estimated", the planner's figure is used above this many rows
ESTIMATE_ABOVE = 10_000
COUNT_MODES = ("exact", "estimated", "none")


class OptimizedQuerySet(FetchModeMixin, QuerySet[Any]):
    profile_relation = "profile"
    posts_relation = "posts"
    post_author_field = "author"
    post_order = ("-created_at", "-pk")
    #: the fields a search matches (on the model's own table, so an index serves them)
    search_fields = ("username", "first_name", "last_name")
    #: misspelt names are found by trigram similarity on this field (PostgreSQL)
    trigram_field: str | None = "username"
    #: a search's order, unique and stable: what a keyset cursor continues from
    search_order = ("username", "pk")

    @classmethod
    def for_model(cls, model: type[Model], using: str | None = None) -> OptimizedQuerySet:
        return cls(model=model, using=using)

    def _post_model(self) -> type[Model]:
        return self.model._meta.get_field(self.posts_relation).related_model

    # -- the guide's three queries ----------------------------------------------------
    def with_recent_posts(self, user_id: Any, limit: int = 10) -> Any:
        """The user, their profile and their latest ``limit`` posts with authors:
        two queries (a join, then one sliced prefetch), whatever ``limit`` is."""
        limit = _positive(limit, "limit", 1000)
        posts = (
            self._post_model()
            ._default_manager.db_manager(self.db)
            .select_related(self.post_author_field)
            .order_by(*self.post_order)[:limit]
        )
        return (
            self.select_related(self.profile_relation)
            .prefetch_related(Prefetch(self.posts_relation, queryset=posts, to_attr="recent_posts"))
            .get(pk=user_id)
        )

    def with_post_counts(self) -> OptimizedQuerySet:
        """Users with ``post_count``, most posts first. A correlated subquery, not a
        join: combined with other aggregates it never multiplies rows."""
        posts = (
            self._post_model()
            ._default_manager.filter(**{self.post_author_field: OuterRef("pk")})
            .order_by()
            .values(self.post_author_field)
            .annotate(n=Count("pk"))
            .values("n")
        )
        counted = Coalesce(Subquery(posts, output_field=IntegerField()), 0)
        return self.annotate(post_count=counted).order_by("-post_count", "pk")

    def search(
        self,
        query: str,
        page: Any = 1,
        page_size: Any = 20,
        count: str = "exact",
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """The guide's result: ``users``, ``total_count``, ``page``, ``page_size``,
        ``total_pages``, plus ``total_count_is_estimate`` and ``next_cursor`` (None on
        the last page). With ``cursor`` (an earlier ``next_cursor``) the page is read
        by keyset, not offset: stable under inserts, the same cost at any depth.
        Bad input, a forged cursor included, is a ValueError."""
        page = _positive(page, "page", 10**6)
        page_size = _positive(page_size, "page_size", MAX_PAGE_SIZE)
        if count not in COUNT_MODES:
            raise ValueError(f"count must be one of {', '.join(COUNT_MODES)}, got {count!r}")
        text = (query or "").strip()[:200]
        matches = cast(
            OptimizedQuerySet,
            text_search.text_filter(self, text, self.search_fields, self.trigram_field),
        )
        rows: QuerySet[Any] = (
            matches.with_post_counts()
            .select_related(self.profile_relation)
            .order_by(*self.search_order)
        )
        if cursor is not None:
            key, page = text_search.read_cursor(cursor, text)
            rows = text_search.after(rows, self.search_order, key)
            users = list(rows[: page_size + 1])
        else:
            start = (page - 1) * page_size
            users = list(rows[start : start + page_size + 1])
        more, users = len(users) > page_size, users[:page_size]
        total, estimate = _count(matches, count)
        return {
            "users": users,
            "total_count": total,
            "total_count_is_estimate": estimate,
            "page": page,
            "page_size": page_size,
            "total_pages": None if total is None else max(1, -(-total // page_size)),
            "next_cursor": (
                text_search.make_cursor(users[-1], self.search_order, text, page + 1)
                if more
                else None
            ),
        }

    async def awith_recent_posts(self, user_id: Any, limit: int = 10) -> Any:
        return await sync_to_async(self.with_recent_posts)(user_id, limit)

    async def asearch(self, query: str, **kwargs: Any) -> dict[str, Any]:
        return await sync_to_async(self.search)(query, **kwargs)


def _count(matches: QuerySet[Any], mode: str) -> tuple[int | None, bool]:
    if mode == "none":
        return None, False
    guess = _planner_rows(matches) if mode == "estimated" else None
    if guess is not None and guess > ESTIMATE_ABOVE:
        return guess, True
    return matches.count(), False


def _planner_rows(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of a query's rows (EXPLAIN, nothing executed); None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _positive(value: Any, name: str, maximum: int) -> int:
    """An int in 1..maximum from an int or a numeric string; else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number from 1 to {maximum}, got {value!r}")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a whole number from 1 to {maximum}, got {value!r}"
        ) from None
    if not 1 <= number <= maximum:
        raise ValueError(f"{name} must be a whole number from 1 to {maximum}, got {value!r}")
    return number


OptimizedManager = Manager.from_queryset(OptimizedQuerySet)
