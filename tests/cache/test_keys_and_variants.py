"""Keys that match what the view reads: cookies, Accept, language, repeated query
values and HEAD; and hits that carry the same Vary as misses. Each under WSGI and
ASGI, on local memory and Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client, override_settings
from django.utils import translation

from tests.cache import urls

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class Visitor:
    """A WSGI or ASGI test client with the same small interface."""

    def __init__(self, server: str, **cookies: str) -> None:
        self.client: Client | AsyncClient = Client() if server == "wsgi" else AsyncClient()
        for name, value in cookies.items():
            self.client.cookies[name] = value

    def request(self, method: str, path: str, **headers: str) -> Any:
        call = getattr(self.client, method)
        if isinstance(self.client, AsyncClient):
            return async_to_sync(call)(path, headers=headers)
        return call(path, headers=headers)

    def get(self, path: str, **headers: str) -> Any:
        return self.request("get", path, **headers)


@pytest.fixture(params=["wsgi", "asgi"])
def visitor(request: pytest.FixtureRequest, cache_backend: str) -> Callable[..., Visitor]:
    return lambda **cookies: Visitor(request.param, **cookies)


def x_cache(response: Any) -> str:
    return response.headers["X-Cache"]


def test_a_page_that_varies_on_a_cookie_is_kept_per_cookie(visitor: Callable[..., Visitor]) -> None:
    dark = visitor(theme="dark").get("/themed/")
    assert dark.content == b"theme=dark"
    light = visitor().get("/themed/")
    assert light.content == b"theme=light", "another anonymous visitor got the dark page"
    again = visitor(theme="dark", _ga="GA1.2.3", _fbp="fb.1").get("/themed/")
    assert x_cache(again) == "HIT" and again.content == b"theme=dark", "analytics are ignored"
    assert urls.RENDERS["themed"] == 2


def test_ignored_cookies_are_a_setting(visitor: Callable[..., Visitor]) -> None:
    with override_settings(PERFSUITE={"STORE": "local", "CACHE_IGNORED_COOKIES": ["theme"]}):
        visitor(theme="dark").get("/themed/")
        assert x_cache(visitor(theme="light").get("/themed/")) == "HIT"


def test_a_negotiating_view_never_serves_json_to_browsers(
    visitor: Callable[..., Visitor],
) -> None:
    for query in ("", "?vary=no"):  # with and without Vary: Accept
        fetched = visitor().get(f"/negotiated/{query}", accept="*/*")
        assert fetched.headers["Content-Type"] == "application/json"
        browser = visitor().get(f"/negotiated/{query}", accept=BROWSER)
        assert browser.content == b"<p>html</p>", query
        assert visitor().get(f"/negotiated/{query}", accept="*/*").content == fetched.content
        hit = visitor().get(f"/negotiated/{query}", accept=BROWSER)
        assert x_cache(hit) == "HIT" and hit.content == b"<p>html</p>"


def test_repeated_query_values_keep_their_order(visitor: Callable[..., Visitor]) -> None:
    assert visitor().get("/get-only/?page=3&page=2").content == b"page=2"
    response = visitor().get("/get-only/?page=2&page=3")
    assert response.content == b"page=3", "the ?page=3&page=2 entry answered ?page=2&page=3"


def test_head_on_a_get_only_view_answers_the_same_on_a_miss_and_a_hit(
    visitor: Callable[..., Visitor],
) -> None:
    client = visitor()
    assert client.request("head", "/get-only/").status_code == 405
    assert client.get("/get-only/").status_code == 200
    assert x_cache(client.get("/get-only/")) == "HIT"
    assert client.request("head", "/get-only/").status_code == 405


def test_hits_carry_the_vary_of_misses(visitor: Callable[..., Visitor]) -> None:
    miss = visitor().get("/lang/", accept_language="en")
    hit = visitor().get("/lang/", accept_language="en")
    assert x_cache(hit) == "HIT"
    assert "Cookie" in hit.headers["Vary"], "a CDN could serve this hit to a signed-in user"
    assert sorted(hit.headers["Vary"].split(", ")) == sorted(miss.headers["Vary"].split(", "))


FRONT_LOCALE = [
    "perfsuite.cache.middleware.ResponseCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def test_front_placement_keys_on_the_requests_language_not_the_threads(
    visitor: Callable[..., Visitor],
) -> None:
    languages = [("en", "English"), ("fr", "French")]
    with override_settings(MIDDLEWARE=FRONT_LOCALE, LANGUAGES=languages, LANGUAGE_CODE="en"):
        translation.activate("fr")  # what the worker's previous request left behind
        try:
            assert visitor().get("/language/", accept_language="en").content == b"lang=en"
            translation.activate("fr")
            english = visitor().get("/language/", accept_language="en")
            assert english.content == b"lang=en", "an English visitor got the French page"
            translation.activate("en")
            assert visitor().get("/language/", accept_language="fr").content == b"lang=fr"
            # a language cookie is a cookie: it picks the page, whatever Accept-Language says
            chosen = visitor(django_language="fr").get("/language/", accept_language="en")
            assert chosen.content == b"lang=fr"
            assert visitor().get("/language/", accept_language="en").content == b"lang=en"
        finally:
            translation.deactivate()
