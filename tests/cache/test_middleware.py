"""The response cache through HTTP, on local memory and on real Redis."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from perfsuite.core import metrics
from tests.cache import urls

pytestmark = pytest.mark.django_db


def x_cache(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers.get("X-Cache", "")


def test_miss_then_hit_with_headers(client: Client, cache_backend: str) -> None:
    first = client.get("/page/")
    assert x_cache(first) == "MISS"
    assert first.headers["Cache-Status"] == "perfsuite; fwd=uri-miss; stored; ttl=300"
    second = client.get("/page/")
    assert x_cache(second) == "HIT"
    assert second.content == first.content
    assert second.headers["Cache-Status"].startswith("perfsuite; hit; ttl=")
    assert int(second.headers["Age"]) >= 0
    assert second.headers["ETag"] == first.headers["ETag"]
    assert urls.RENDERS["page"] == 1


def test_one_users_page_never_reaches_another(client: Client, cache_backend: str) -> None:
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    client.force_login(alice)
    assert b"hello alice" in client.get("/whoami/").content
    assert x_cache(client.get("/whoami/")) == "HIT"
    client.force_login(bob)
    response = client.get("/whoami/")
    assert b"hello bob" in response.content and x_cache(response) == "MISS"
    client.logout()
    anonymous = client.get("/whoami/")
    assert b"hello anonymous" in anonymous.content
    assert b"alice" not in anonymous.content and b"bob" not in anonymous.content


def test_analytics_cookies_do_not_split_the_anonymous_bucket(cache_backend: str) -> None:
    Client(HTTP_COOKIE="_ga=GA1.1.1; _fbp=fb.1").get("/page/")
    response = Client(HTTP_COOKIE="_ga=GA1.2.2; theme=dark").get("/page/")
    assert x_cache(response) == "HIT"


def test_vary_accept_language_splits_entries(client: Client, cache_backend: str) -> None:
    en = client.get("/lang/", HTTP_ACCEPT_LANGUAGE="en")
    fr = client.get("/lang/", HTTP_ACCEPT_LANGUAGE="fr")
    assert en.content == b"lang=en" and fr.content == b"lang=fr"
    assert x_cache(fr) == "MISS"
    assert client.get("/lang/", HTTP_ACCEPT_LANGUAGE="fr").content == b"lang=fr"
    assert client.get("/lang/", HTTP_ACCEPT_LANGUAGE="en").content == b"lang=en"
    assert urls.RENDERS["lang"] == 2


def test_browsers_accept_strings_share_one_entry(client: Client, cache_backend: str) -> None:
    client.get("/page/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    firefox = client.get("/page/", HTTP_ACCEPT="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
    assert x_cache(firefox) == "HIT"
    json = client.get("/page/", HTTP_ACCEPT="application/json")
    assert x_cache(json) == "MISS"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/cookie/", "set-cookie"),
        ("/session/", "session"),
        ("/star/", "vary-star"),
        ("/error/", "status"),
        ("/stream/", "streaming"),
        ("/message/", "messages"),
        ("/header/?cc=private", "private"),
        ("/header/?cc=no-store", "no-store"),
        ("/header/?cc=no-cache", "no-cache"),
        ("/header/?cc=max-age=0", "ttl-zero"),
    ],
)
def test_never_cached(client: Client, cache_backend: str, path: str, reason: str) -> None:
    first = client.get(path)
    second = client.get(path)
    assert x_cache(first) == "MISS" and x_cache(second) == "MISS"
    assert first.headers["Cache-Status"].endswith(f"detail={reason}")
    snap = metrics.registry.snapshot("all")
    assert snap.counter_total("perfsuite_cache_not_stored", reason=reason) == 2


def csrf_token(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert match is not None
    return match.group(1).decode()


def test_pages_with_a_csrf_token_are_kept_per_csrf_cookie(cache_backend: str) -> None:
    client = Client(enforce_csrf_checks=True)
    first = client.get("/csrf/")
    assert x_cache(first) == "MISS"
    assert first.headers["Cache-Status"].endswith("detail=csrf"), "a new CSRF cookie goes out"
    second = client.get("/csrf/")
    assert "stored" in second.headers["Cache-Status"]
    third = client.get("/csrf/")
    assert x_cache(third) == "HIT" and third.content == second.content
    # the token served from the cache is valid for the client it was stored for
    posted = client.post("/post/", {"csrfmiddlewaretoken": csrf_token(third)})
    assert posted.status_code == 200
    # another visitor (another CSRF cookie) never gets that page or its token
    other = Client(enforce_csrf_checks=True)
    other.get("/csrf/")
    theirs = other.get("/csrf/")
    assert x_cache(theirs) == "MISS"
    assert other.cookies["csrftoken"].value != client.cookies["csrftoken"].value
    assert x_cache(other.get("/csrf/")) == "HIT"
    assert urls.RENDERS["csrf"] == 4


def test_other_methods_bypass(client: Client, cache_backend: str) -> None:
    for _ in range(2):
        response = client.post("/post/")
        assert x_cache(response) == "BYPASS"
    assert urls.RENDERS["post"] == 2


def test_authorization_bypasses_unless_allowed(client: Client, cache_backend: str) -> None:
    client.get("/page/")
    response = client.get("/page/", HTTP_AUTHORIZATION="Bearer x")
    assert x_cache(response) == "BYPASS"
    assert "detail=authorization" in response.headers["Cache-Status"]
    with override_settings(PERFSUITE={"CACHE_ALLOW_AUTHORIZATION": True}):
        assert x_cache(client.get("/page/", HTTP_AUTHORIZATION="Bearer x")) == "HIT"


def test_404_is_cached_with_a_short_ttl(client: Client, cache_backend: str) -> None:
    first = client.get("/missing/")
    assert first.status_code == 404
    assert first.headers["Cache-Status"].endswith("ttl=60")
    assert x_cache(client.get("/missing/")) == "HIT"


def test_s_maxage_wins_over_max_age(client: Client, cache_backend: str) -> None:
    response = client.get("/header/", {"cc": "max-age=30, s-maxage=120"})
    assert response.headers["Cache-Status"].endswith("stored; ttl=120")


def test_query_order_and_tracking_parameters(client: Client, cache_backend: str) -> None:
    client.get("/page/?b=2&a=1")
    assert x_cache(client.get("/page/?a=1&b=2")) == "HIT"
    assert x_cache(client.get("/page/?a=1&utm_source=mail&b=2&fbclid=xyz&gclid=1")) == "HIT"
    assert x_cache(client.get("/page/?a=1&b=3")) == "MISS"


def test_head_has_entries_of_its_own(client: Client, cache_backend: str) -> None:
    head = client.head("/page/")
    assert x_cache(head) == "MISS"
    client.get("/page/")
    head = client.head("/page/")
    assert x_cache(head) == "HIT"  # HEAD's own entry: it answers as the view answers HEAD
    assert head.content == b""
    assert urls.RENDERS["page"] == 2


def test_conditional_get_answers_304_on_a_hit(client: Client, cache_backend: str) -> None:
    etag = client.get("/page/").headers["ETag"]
    response = client.get("/page/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert urls.RENDERS["page"] == 1  # the 304 was built from the cached response


def test_no_cache_refreshes_for_staff_only(client: Client, cache_backend: str) -> None:
    client.get("/page/")
    anonymous = client.get("/page/", HTTP_CACHE_CONTROL="no-cache")
    assert x_cache(anonymous) == "HIT"
    assert x_cache(client.get("/page/", HTTP_PRAGMA="no-cache")) == "HIT"
    assert urls.RENDERS["page"] == 1
    client.force_login(User.objects.create_user("ops", is_staff=True))
    client.get("/page/")
    refreshed = client.get("/page/", HTTP_CACHE_CONTROL="no-cache")
    assert x_cache(refreshed) == "BYPASS"
    assert "fwd=request; stored" in refreshed.headers["Cache-Status"]
    after = client.get("/page/")
    assert x_cache(after) == "HIT" and after.content == refreshed.content


def test_invalidation_by_tag_path_and_all(client: Client, cache_backend: str) -> None:
    from perfsuite.cache import invalidate_all, invalidate_path, invalidate_tags

    client.get("/decorated/")
    client.get("/page/")
    invalidate_tags("decorated")
    assert x_cache(client.get("/decorated/")) == "MISS"
    assert x_cache(client.get("/page/")) == "HIT"
    invalidate_path("/page/")
    assert x_cache(client.get("/page/")) == "MISS"
    invalidate_all()
    assert x_cache(client.get("/page/")) == "MISS"
    assert x_cache(client.get("/page/")) == "HIT"


def test_decorator_keeps_users_apart(client: Client, cache_backend: str) -> None:
    client.force_login(User.objects.create_user("carol"))
    assert client.get("/decorated/").content == b"decorated for carol"
    client.logout()
    assert client.get("/decorated/").content == b"decorated for anonymous"


def test_async_views_and_decorator_under_asgi(async_client, cache_backend: str) -> None:  # type: ignore[no-untyped-def]
    from asgiref.sync import async_to_sync

    first = async_to_sync(async_client.get)("/async-page/")
    second = async_to_sync(async_client.get)("/async-page/")
    assert x_cache(first) == "MISS" and x_cache(second) == "HIT"
    assert second.content == first.content
    a = async_to_sync(async_client.get)("/decorated-async/")
    b = async_to_sync(async_client.get)("/decorated-async/")
    assert a.content == b.content == b"async #1"


FRONT = [
    "perfsuite.cache.middleware.ResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


def test_placed_before_sessions_it_caches_only_cookieless_requests(
    client: Client, cache_backend: str
) -> None:
    with override_settings(MIDDLEWARE=FRONT):
        assert x_cache(client.get("/whoami/")) == "MISS"
        hit = client.get("/whoami/")
        assert x_cache(hit) == "HIT" and b"hello anonymous" in hit.content
        client.force_login(User.objects.create_user("dave"))
        mine = client.get("/whoami/")
        assert x_cache(mine) == "BYPASS" and b"hello dave" in mine.content
        assert "detail=needs-user" in mine.headers["Cache-Status"]


def test_hits_are_timed_under_their_route(client: Client, cache_backend: str) -> None:
    for _ in range(3):
        client.get("/page/")
    snap = metrics.registry.snapshot("all")
    latency = snap.histogram("perfsuite_http_request_seconds", route="page/")
    assert latency.count == 3, "hits skip URL resolution but keep their route"
    assert snap.histogram("perfsuite_http_request_seconds", route="<unmatched>").count == 0
