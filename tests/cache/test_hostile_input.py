"""Hostile and malformed input never breaks the cache or crosses visitors."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


def test_anonymous_session_data_gets_its_own_bucket(cache_backend: str) -> None:
    shopper = Client()
    shopper.get("/session/")  # puts data in this visitor's session
    mine = shopper.get("/cart/")
    assert mine.content == b"seen=True"
    stranger = Client()
    theirs = stranger.get("/cart/")
    assert theirs.content == b"seen=None"
    assert shopper.get("/cart/").content == b"seen=True"
    assert stranger.get("/cart/").headers["X-Cache"] == "HIT"


def test_disallowed_host_is_a_400_not_a_cache_entry(client: Client, cache_backend: str) -> None:
    response = client.get("/page/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    accept=header_text,
    language=header_text,
    cache_control=header_text,
    pragma=header_text,
    encoding=header_text,
    query=st.text(max_size=60),
)
def test_random_headers_and_queries_never_500(
    client: Client,
    cache_backend: str,
    accept: str,
    language: str,
    cache_control: str,
    pragma: str,
    encoding: str,
    query: str,
) -> None:
    for path in ("/page/", "/lang/", "/header/"):
        response = client.get(
            path,
            QUERY_STRING=query.encode("utf-8", "surrogatepass").decode("latin-1"),
            HTTP_ACCEPT=accept,
            HTTP_ACCEPT_LANGUAGE=language,
            HTTP_CACHE_CONTROL=cache_control,
            HTTP_PRAGMA=pragma,
            HTTP_ACCEPT_ENCODING=encoding,
        )
        assert response.status_code == 200
        assert response.headers["X-Cache"] in ("HIT", "MISS", "BYPASS", "STALE")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cookie=header_text, accept=header_text)
def test_random_cookies_on_pages_that_vary_on_them_never_500_nor_cross(
    cache_backend: str, cookie: str, accept: str
) -> None:
    """A page that says Vary: Cookie (or Accept) is only served for the same cookies."""
    for path in ("/themed/", "/negotiated/"):
        response = Client(HTTP_COOKIE=cookie, HTTP_ACCEPT=accept).get(path)
        assert response.status_code == 200
    themed = Client(HTTP_COOKIE=cookie).get("/themed/")
    plain = Client().get("/themed/")
    assert plain.content == b"theme=light"
    if b"theme=dark" in themed.content:
        assert "theme=dark" in cookie
