"""Every demo page through the demo's own middleware stack, under WSGI and ASGI, on
local memory and Redis: anonymous, signed in, and with a forged session cookie.

The first outside trial found every signed-in request failing under uvicorn (the
cache resolved ``request.user`` inside the event loop); the ASGI tests had only used
anonymous clients.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.test import AsyncClient, Client, override_settings
from django.urls import reverse

from project.shop.models import Post, Product
from tests.cache.conftest import redis_caches

pytestmark = pytest.mark.django_db

User = get_user_model()
FORGED = "abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture(params=["locmem", "redis"])
def demo_cache(request: pytest.FixtureRequest) -> Iterator[str]:
    """The demo site's own settings, its cache on local memory or a real Redis."""
    if request.param == "redis":
        setting = redis_caches(request.getfixturevalue("redis_url"))
        with override_settings(CACHES=setting):
            caches["default"].clear()
            yield "redis"
    else:
        yield "locmem"


@pytest.fixture
def pages(db: Any) -> list[str]:
    call_command("seed_demo", products=60, users=3, posts=20, stdout=io.StringIO())
    product = Product.objects.order_by("pk").first()
    post = Post.objects.filter(status=Post.Status.PUBLISHED).order_by("pk").first()
    assert product is not None and post is not None
    return [
        reverse("home"),
        reverse("products"),
        reverse("products") + "?page=2",
        reverse("product-detail", args=[product.pk]),
        reverse("posts"),
        reverse("post-detail", args=[post.pk]),
        reverse("profile"),
        reverse("demo-task"),
        reverse("login"),
        "/items/",
        "/products/virtual/",
        "/dashboard/",
        *("/tasks/", "/tasks/thumbnail/", "/tasks/report/", "/tasks/cpu/"),
        "/memory/",
    ]


Get = Callable[[str], Any]
#: pages that send an anonymous visitor to the sign-in form
SIGNED_IN_ONLY = {"/profile/", "/tasks/thumbnail/", "/tasks/report/", "/tasks/cpu/"}
#: pages of live figures, never cached: two visits differ
LIVE = {"/memory/"}


def getter(server: str, **client_kwargs: Any) -> tuple[Get, Client | AsyncClient]:
    if server == "wsgi":
        client = Client(**client_kwargs)
        return client.get, client
    aclient = AsyncClient(**client_kwargs)
    return (lambda path: async_to_sync(aclient.get)(path)), aclient


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_signed_in_user_gets_every_page_with_their_name(
    server: str, demo_cache: str, pages: list[str]
) -> None:
    get, client = getter(server)
    client.force_login(User.objects.create_user("alice", password="pw"))
    for path in pages:
        for attempt in range(2):
            response = get(path)
            assert response.status_code == 200, (path, attempt, response.status_code)
            html = response.content.decode()
            assert '<strong class="username">alice</strong>' in html, path
    # her pages are cached for her: the second visit of a cacheable page is a hit
    assert get(reverse("products")).headers["X-Cache"] == "HIT"


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_users_never_see_each_others_pages(server: str, demo_cache: str, pages: list[str]) -> None:
    get_a, alice = getter(server)
    get_b, bob = getter(server)
    alice.force_login(User.objects.create_user("alice"))
    bob.force_login(User.objects.create_user("bob"))
    get_anon, _anon = getter(server)
    for path in pages:
        get_a(path)
        get_a(path)
        theirs = get_b(path).content.decode()
        assert "alice" not in theirs and '<strong class="username">bob</strong>' in theirs, path
        anonymous = get_anon(path)
        if path in SIGNED_IN_ONLY:
            assert anonymous.status_code == 302
            continue
        assert "alice" not in anonymous.content.decode(), path
        assert "Sign in" in anonymous.content.decode(), path


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_forged_session_cookie_is_an_anonymous_visitor(
    server: str, demo_cache: str, pages: list[str]
) -> None:
    get, client = getter(server)
    client.cookies["sessionid"] = FORGED
    for path in pages:
        response = get(path)
        if path in SIGNED_IN_ONLY:
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
            continue
        assert response.status_code == 200, (path, response.status_code)
        assert "Sign in" in response.content.decode(), path


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_anonymous_visitors_get_every_page_twice(
    server: str, demo_cache: str, pages: list[str]
) -> None:
    get, _client = getter(server)
    for path in pages:
        first, second = get(path), get(path)
        if path in SIGNED_IN_ONLY:
            assert first.status_code == second.status_code == 302
            continue
        assert first.status_code == second.status_code == 200, path
        if path in LIVE:
            assert "no-cache" in second["Cache-Control"], path
            continue
        assert second.content == first.content or "csrfmiddlewaretoken" in first.content.decode()
    assert get(reverse("products")).headers["X-Cache"] == "HIT"


def test_sign_in_page_signs_in_the_demo_user(demo_cache: str, pages: list[str]) -> None:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("demo_superuser", stdout=out)
    assert "demo user: demo / demo" in out.getvalue()
    client = Client(enforce_csrf_checks=True)
    login = client.get(reverse("login") + "?next=/products/")
    token = login.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(
        reverse("login"),
        {
            "username": "demo",
            "password": "demo",
            "next": "/products/",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/products/"
    page = client.get("/products/").content.decode()
    assert '<strong class="username">demo</strong>' in page


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_an_edited_product_shows_on_the_dashboard_at_once(
    server: str, demo_cache: str, pages: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    """The dashboard's lazy table lists the dearest products: a product edited in admin
    (or anywhere) must show there on the next visit, not after the cache's TTL."""
    import html
    import re

    get, _client = getter(server)

    def data_table() -> str:
        """The dashboard's Data tab as the browser loads it: the lazy URL in the page."""
        page = get("/dashboard/").content.decode()
        urls = re.findall(r'data-ps-lazy="([^"]+)" [^>]*data-ps-component="data_table"', page)
        assert len(urls) == 1, "the data table's placeholder"
        return get(html.unescape(urls[0])).content.decode()

    dearest = Product.objects.order_by("-price", "pk").first()
    assert dearest is not None and dearest.name in data_table()
    assert get("/dashboard/").headers["X-Cache"] == "HIT"
    dearest.name = "Renamed dearest product"
    with django_capture_on_commit_callbacks(execute=True):  # the commit invalidates
        dearest.save()
    assert "Renamed dearest product" in data_table()
    assert get("/dashboard/").headers["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        Post.objects.filter(status=Post.Status.PUBLISHED).first().delete()  # type: ignore[union-attr]
    assert get("/dashboard/").headers["X-Cache"] != "HIT", "the posts count changed too"


def test_every_read_only_page_answers_head(demo_cache: str, pages: list[str]) -> None:
    """Uptime checkers send HEAD: a read-only page answers it as it answers GET."""
    client = Client()
    for path in pages:
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code, (path, head.status_code)
        assert head.content == b"", path
