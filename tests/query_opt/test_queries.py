"""The guide's three queries on the demo's user model, on SQLite and PostgreSQL, with
their query counts (``assert_max_queries``) and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from perfsuite.query_opt.budgets import assert_max_queries
from perfsuite.query_opt.queries import OptimizedQuerySet
from project.shop.models import Post, Profile

pytestmark = pytest.mark.django_db(databases="__all__")
User = get_user_model()


@pytest.fixture
def people(db_alias: str) -> dict[str, Any]:
    alice = User.objects.create_user("alice", first_name="Alice")
    bob = User.objects.create_user("bobby")
    carol = User.objects.create_user("carol")
    Profile.objects.create(user=alice, location="Lisbon")
    Profile.objects.create(user=bob, location="Alicante")
    now = timezone.now()
    Post.objects.bulk_create(
        Post(author=alice, title=f"a{n}", body="", created_at=now - timedelta(hours=n))
        for n in range(15)
    )
    Post.objects.bulk_create(Post(author=bob, title=f"b{n}", body="") for n in range(3))
    return {"alice": alice, "bob": bob, "carol": carol}


def users() -> OptimizedQuerySet:
    return OptimizedQuerySet.for_model(User)


def test_with_recent_posts_in_two_queries(people: dict[str, Any]) -> None:
    alice = people["alice"]
    with assert_max_queries(2):
        user = users().with_recent_posts(alice.pk, limit=10)
        titles = [p.title for p in user.recent_posts]
        authors = {p.author.username for p in user.recent_posts}
        location = user.profile.location
    assert titles == [f"a{n}" for n in range(10)], "the latest ten, newest first"
    assert authors == {"alice"} and location == "Lisbon"


def test_with_post_counts_is_right_beside_another_aggregate(people: dict[str, Any]) -> None:
    from django.contrib.auth.models import Group

    for name in ("editors", "readers"):
        Group.objects.create(name=name).user_set.add(people["alice"])
    with assert_max_queries(1):
        rows = list(users().with_post_counts().annotate(group_count=Count("groups")))
    counts = {u.username: u.post_count for u in rows}
    assert counts == {"alice": 15, "bobby": 3, "carol": 0}
    assert [u.username for u in rows][:2] == ["alice", "bobby"], "most posts first"
    assert {u.username: u.group_count for u in rows}["alice"] == 2
    # the join Django's docs warn about multiplies: 15 posts x 2 groups
    joined = User.objects.annotate(n=Count("posts"), g=Count("groups")).get(username="alice")
    assert joined.n == 30


def test_search_returns_the_guides_dict(people: dict[str, Any]) -> None:
    users().search("x")  # the first search of a process asks PostgreSQL for pg_trgm once
    with assert_max_queries(2):
        found = users().search("ali", page=1, page_size=20)
    assert [u.username for u in found["users"]] == ["alice"]
    assert found["total_count"] == 1 and found["total_pages"] == 1
    assert found["next_cursor"] is None
    assert found["page"] == 1 and found["page_size"] == 20
    assert found["users"][0].post_count == 15
    second = users().search("", page=2, page_size=2)
    assert [u.username for u in second["users"]] == ["carol"]
    assert second["total_pages"] == 2 and second["next_cursor"] is None
    first = users().search("", page=1, page_size=2)
    assert [u.username for u in first["users"]] == ["alice", "bobby"], "by name"
    assert first["next_cursor"], "more rows: a cursor to them"
    none = users().search("ali", count="none")
    assert none["total_count"] is None and none["total_pages"] is None
    estimated = users().search("ali", count="estimated")
    assert estimated["total_count"] == 1 and estimated["total_count_is_estimate"] is False


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": True}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 10_000}, "page_size"),
        ({"count": "all"}, "count"),
    ],
)
def test_bad_search_input_is_a_value_error(
    people: dict[str, Any], kwargs: dict[str, Any], word: str
) -> None:
    with pytest.raises(ValueError, match=word):
        users().search("a", **kwargs)


def test_async_twins(people: dict[str, Any]) -> None:
    found = async_to_sync(users().asearch)("bob")
    assert [u.username for u in found["users"]] == ["bobby"]
    user = async_to_sync(users().awith_recent_posts)(people["bob"].pk, 2)
    assert len(user.recent_posts) == 2
