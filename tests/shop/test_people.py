"""The demo's user pages on query_opt: search (HTML and JSON), a user's page in at most
three queries, bad input answered 400; on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from perfsuite.query_opt.budgets import assert_max_queries
from project.shop.models import Post, Profile

pytestmark = pytest.mark.django_db(databases="__all__")
User = get_user_model()


@pytest.fixture
def seeded(db_alias: str) -> str:
    call_command(
        "seed_demo", products=5, users=30, posts=60, database=db_alias, stdout=io.StringIO()
    )
    return db_alias


def test_search_page_has_totals_and_pages(seeded: str, client: Client) -> None:
    first = client.get("/users/")
    assert first.status_code == 200
    html = first.content.decode()
    assert "30 users" in html and "page 1 of 2" in html
    assert html.count('class="user"') == 20
    second = client.get("/users/", {"page": 2})
    assert second.content.decode().count('class="user"') == 10


def test_search_json_is_the_guides_dict(seeded: str, client: Client) -> None:
    user = User.objects.order_by("pk").first()
    assert user is not None
    data = client.get("/users/search.json", {"q": user.username, "page_size": 5}).json()
    assert set(data) >= {"users", "total_count", "page", "page_size", "total_pages"}
    assert data["users"][0]["username"] == user.username
    assert set(data["users"][0]) == {"id", "username", "location", "post_count"}
    assert data["users"][0]["post_count"] == Post.objects.filter(author=user).count()
    assert client.get("/users/search.json", {"count": "none"}).json()["total_count"] is None


@pytest.mark.parametrize(
    "query",
    [{"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page_size": "0"},
     {"page_size": "10000"}, {"count": "bogus"}],
)  # fmt: skip
def test_bad_paging_is_a_400_with_the_reason(seeded: str, client: Client, query: dict) -> None:
    response = client.get("/users/search.json", query)
    assert response.status_code == 400
    assert "must be" in response.json()["error"]
    if "page" in query:
        assert client.get("/users/", query).status_code == 400


def test_a_users_page_in_at_most_three_queries(seeded: str, client: Client) -> None:
    author = Post.objects.order_by("pk").values_list("author", flat=True).first()
    with assert_max_queries(3):
        response = client.get(f"/users/{author}/")
    assert response.status_code == 200
    assert response.content.decode().count("/posts/") >= 1
    assert client.get("/users/99999999/").status_code == 404


def test_hostile_names_and_locations_are_escaped(db_alias: str, client: Client) -> None:
    evil = "<script>alert(1)</script>"
    user = User.objects.create_user("mallory", first_name=evil)
    Profile.objects.create(user=user, location=evil)
    for url in ("/users/?q=mallory", f"/users/{user.pk}/", "/users/?q=" + evil):
        html = client.get(url).content.decode()
        assert evil not in html, url
