"""The demo pages through Django's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError

from project.shop.models import Post, Product

User = get_user_model()
AssertMaxQueries = Callable[..., AbstractContextManager[Any]]

PAGES = ["home", "products", "posts", "demo-task"]


@pytest.fixture
def seeded(db_alias: str) -> str:
    call_command(
        "seed_demo", products=60, users=3, posts=70, database=db_alias, stdout=io.StringIO()
    )
    return db_alias


def card_names(html: str) -> list[str]:
    return re.findall(r'<li class="card">\s*<h2><a href="[^"]+">([^<]+)</a>', html)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("name", PAGES)
def test_public_pages_answer_200(seeded: str, client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>" in html
    assert "<h1>" in html


@pytest.mark.django_db(databases="__all__")
def test_home_links_to_every_demo_page(seeded: str, client: Client) -> None:
    html = client.get(reverse("home")).content.decode()
    product = Product.objects.order_by("pk").first()
    post = Post.objects.filter(status=Post.Status.PUBLISHED).order_by("pk").first()
    assert product is not None and post is not None
    for url in (
        reverse("products"),
        reverse("product-detail", args=[product.pk]),
        reverse("posts"),
        reverse("post-detail", args=[post.pk]),
        reverse("profile"),
        reverse("demo-task"),
        "/admin/",
    ):
        assert f'href="{url}"' in html, url


@pytest.mark.django_db(databases="__all__")
def test_detail_pages(seeded: str, client: Client) -> None:
    product = Product.objects.get(name="Product 000007")
    response = client.get(reverse("product-detail", args=[product.pk]))
    assert response.status_code == 200
    assert "<h1>Product 000007</h1>" in response.content.decode()

    post = Post.objects.filter(status=Post.Status.PUBLISHED).select_related("author").first()
    assert post is not None
    html = client.get(reverse("post-detail", args=[post.pk])).content.decode()
    assert post.author.username in html
    assert f"<h1>{post.title}</h1>" in html


@pytest.mark.django_db(databases="__all__")
def test_missing_details_are_404(seeded: str, client: Client) -> None:
    assert client.get(reverse("product-detail", args=[999_999])).status_code == 404
    assert client.get(reverse("post-detail", args=[999_999])).status_code == 404
    draft = Post.objects.filter(status=Post.Status.DRAFT).first()
    if draft is None:  # the seed has ~10 % drafts; make sure there is one
        draft = Post.objects.first()
        assert draft is not None
        draft.status = Post.Status.DRAFT
        draft.save()
    assert client.get(reverse("post-detail", args=[draft.pk])).status_code == 404


@pytest.mark.django_db(databases="__all__")
def test_product_list_pages(seeded: str, client: Client) -> None:
    first = card_names(client.get(reverse("products")).content.decode())
    assert len(first) == 50
    assert first[0] == "Product 000001"
    second = card_names(client.get(reverse("products"), {"page": 2}).content.decode())
    assert second == [f"Product {n:06d}" for n in range(51, 61)]


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("name", ["products", "posts"])
@pytest.mark.parametrize(("page", "expected"), [("abc", 1), ("99999", 2), ("-3", 2), ("", 1)])
def test_bad_page_numbers_are_not_errors(
    seeded: str, client: Client, name: str, page: str, expected: int
) -> None:
    response = client.get(reverse(name), {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == expected


@pytest.mark.django_db(databases="__all__")
def test_card_shows_price_and_first_120_characters(db_alias: str, client: Client) -> None:
    Product.objects.create(name="Long one", price=Decimal("12.50"), description="x" * 500)
    html = client.get(reverse("products")).content.decode()
    assert "$12.50" in html
    assert "x" * 119 + "…" in html
    assert "x" * 121 not in html


@pytest.mark.django_db(databases="__all__")
def test_user_data_is_escaped(db_alias: str, client: Client) -> None:
    evil = "<script>alert(1)</script>"
    product = Product.objects.create(name=evil, price=Decimal("1.00"), description=evil)
    author = User.objects.create_user(username="mallory")
    post = Post.objects.create(author=author, title=evil, body=evil)
    for url in (
        reverse("products"),
        reverse("product-detail", args=[product.pk]),
        reverse("posts"),
        reverse("post-detail", args=[post.pk]),
    ):
        html = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert evil not in html, url


@pytest.mark.django_db(databases="__all__")
def test_post_list_shows_only_published_posts_with_authors(db_alias: str, client: Client) -> None:
    alice = User.objects.create_user(username="alice")
    Post.objects.create(author=alice, title="Visible post")
    Post.objects.create(author=alice, title="Hidden draft", status=Post.Status.DRAFT)
    html = client.get(reverse("posts")).content.decode()
    assert "Visible post" in html
    assert "Hidden draft" not in html
    assert '<span class="author">alice</span>' in html


@pytest.mark.django_db(databases="__all__")
def test_post_list_queries_do_not_grow_with_posts(
    db_alias: str, client: Client, django_assert_max_num_queries: AssertMaxQueries
) -> None:
    connection = connections[db_alias]

    def make_posts(count: int) -> None:
        start = User.objects.count()
        users = [
            User.objects.create_user(username=f"writer{n}") for n in range(start, start + count)
        ]
        Post.objects.bulk_create(Post(author=u, title=f"t{u.pk}", body="b") for u in users)

    make_posts(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("posts")).status_code == 200

    make_posts(57)  # 60 posts by 60 authors: a full page of 50
    cache.clear()  # the response cache would answer without a query
    with django_assert_max_num_queries(3, connection=connection):
        response = client.get(reverse("posts"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 50
    assert response.content.decode().count('class="author"') == 50
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("posts"))
    assert len(many) == len(few)


@pytest.mark.django_db(databases="__all__")
def test_header_shows_sign_in_link_when_anonymous(db_alias: str, client: Client) -> None:
    html = client.get(reverse("products")).content.decode()
    assert '<a href="/accounts/login/?next=/products/">Sign in</a>' in html
    assert "Log out" not in html


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("name", PAGES)
def test_header_shows_username_when_signed_in(db_alias: str, client: Client, name: str) -> None:
    client.force_login(User.objects.create_user(username="carol"))
    html = client.get(reverse(name)).content.decode()
    assert '<strong class="username">carol</strong>' in html
    assert 'action="/accounts/logout/"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Sign in" not in html


@pytest.mark.django_db(databases="__all__")
def test_profile_redirects_anonymous_users_to_admin_login(db_alias: str, client: Client) -> None:
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/profile/"


@pytest.mark.django_db(databases="__all__")
def test_profile_is_the_signed_in_users_own_page(seeded: str, client: Client) -> None:
    dave = User.objects.get(username="user0002")
    own_posts = Post.objects.filter(author=dave).count()
    assert own_posts > 0
    client.force_login(dave)
    html = client.get(reverse("profile")).content.decode()
    assert '<h1>Profile of <span class="profile-username">user0002</span></h1>' in html
    assert f'<dd class="post-count">{own_posts}</dd>' in html
    assert "user0001" not in html

    client.force_login(User.objects.get(username="user0003"))
    html = client.get(reverse("profile")).content.decode()
    assert 'class="profile-username">user0003<' in html
    assert "user0002" not in html


@pytest.mark.django_db(databases="__all__")
def test_demo_task_get_shows_a_form(db_alias: str, client: Client) -> None:
    with mock.patch("project.shop.tasks.add.delay") as delay:
        response = client.get(reverse("demo-task"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post" action="/tasks/demo/">' in html
    assert "csrfmiddlewaretoken" in html
    delay.assert_not_called()


@pytest.mark.django_db(databases="__all__")
def test_demo_task_post_enqueues_and_shows_the_id(db_alias: str, client: Client) -> None:
    with mock.patch(
        "project.shop.tasks.add.delay", return_value=SimpleNamespace(id="abc")
    ) as delay:
        response = client.post(reverse("demo-task"))
    assert response.status_code == 200
    delay.assert_called_once_with(2, 3)
    assert '<code class="task-id">abc</code>' in response.content.decode()


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("error", [OperationalError("broker down"), OSError("refused")])
def test_demo_task_broker_outage_is_a_message(
    db_alias: str, client: Client, error: Exception
) -> None:
    with mock.patch("project.shop.tasks.add.delay", side_effect=error):
        response = client.post(reverse("demo-task"))
    assert response.status_code == 503
    assert "broker is unreachable" in response.content.decode()


def test_demo_task_refuses_other_methods(client: Client) -> None:
    assert client.put(reverse("demo-task")).status_code == 405
