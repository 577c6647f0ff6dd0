"""The response cache at the front door: a fresh hit of an anonymous, cookie-less request
is answered before Django's handler with the middleware's answer (the same body and
headers, ETag and 304 included), WSGI and ASGI, on local memory and Redis; anything
personal, a miss, a refresh and an outage go to Django."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client, override_settings

from perfsuite.cache.front import CacheFront
from perfsuite.core import metrics
from perfsuite.core.front_servers import FrontASGI, FrontWSGI
from project.settings import MIDDLEWARE as DEMO_MIDDLEWARE
from tests.cache.conftest import redis_caches
from tests.front import Downstream, asgi, wsgi

pytestmark = pytest.mark.django_db
User = get_user_model()
VOLATILE = {"server-timing", "x-response-time", "date", "age"}
HOST = {"Host": "testserver"}


@pytest.fixture(params=["locmem", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis":
        with override_settings(CACHES=redis_caches(request.getfixturevalue("redis_url"))):
            caches["default"].clear()
            yield "redis"
            caches["default"].clear()
    else:
        caches["default"].clear()
        yield "locmem"


@pytest.fixture
def seeded(db: Any) -> None:
    call_command("seed_demo", products=60, users=3, posts=20, stdout=io.StringIO())


@pytest.fixture(params=["wsgi", "asgi"])
def door(request: pytest.FixtureRequest, backend: str, seeded: None) -> Any:
    down = Downstream()
    if request.param == "wsgi":
        app = FrontWSGI(down)
        return (
            lambda path, headers=None, method="GET": wsgi(
                app, path, {**HOST, **(headers or {})}, method
            )
        ), down
    app_a = FrontASGI(down.asgi)
    return (
        lambda path, headers=None, method="GET": asgi(
            app_a, path, {**HOST, **(headers or {})}, method
        )
    ), down


def comparable(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}


def stored_by_middleware(path: str) -> Any:
    client = Client()
    client.get(path)
    hit = client.get(path)
    assert hit["X-Cache"] == "HIT", path
    return hit


def test_an_anonymous_hit_is_the_middlewares_answer_without_django(door: Any) -> None:
    call, down = door
    for path in ("/products/", "/products/?page=2", "/posts/"):
        hit = stored_by_middleware(path)
        status, headers, body = call(path)
        assert status == 200 and body == hit.content, path
        assert comparable(headers) == comparable(dict(hit.headers)), path
        assert headers["x-cache"] == "HIT" and headers["cache-status"].startswith("perfsuite; hit")
        assert int(headers["age"]) >= 0 and headers["server-timing"].startswith("total;dur=")
        # ConditionalGetMiddleware's ETag: a revalidation is a 304, as through Django
        status, _h, body = call(path, {"If-None-Match": headers["etag"]})
        assert (status, body) == (304, b"")
        # HEAD has entries of its own (the demo's pages answer HEAD, require_safe):
        # through Django a second HEAD is a hit of HEAD's own entry
        client = Client()
        client.head(path)
        assert client.head(path)["X-Cache"] == "HIT"
        status, _h, body = call(path, method="HEAD")  # the door: HEAD's own entry
        assert (status, body) == (200, b"")
    assert down.paths == [], "every GET and HEAD hit answered before Django"


def test_what_is_personal_missing_or_refreshed_goes_to_django(door: Any) -> None:
    call, down = door
    stored_by_middleware("/products/")
    personal = [
        {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"},
        {"Cookie": "anything=1"},
        {"Authorization": "Bearer x"},
        {"Cache-Control": "no-cache"},
    ]
    personal.append({"Host": "evil.example"})  # not in ALLOWED_HOSTS: Django's 400
    for headers in personal:
        assert call("/products/", headers)[0] == 418, headers
    assert call("/posts/")[0] == 418, "not stored yet: a miss renders in Django"
    assert call("/products/", method="POST")[0] == 418
    assert len(down.paths) == 7


def test_a_signed_in_users_page_is_never_served_to_anyone(door: Any) -> None:
    call, down = door
    alice = Client()
    alice.force_login(User.objects.create_user("alice", password="pw"))
    for path in ("/products/", "/profile/", "/posts/"):
        alice.get(path)
        alice.get(path)
        status, _headers, body = call(path)
        assert status == 418 and b"alice" not in body, path
    assert len(down.paths) == 3
    assert alice.get("/products/")["X-Cache"] == "HIT", "her page is in the cache, for her"


def test_hits_are_counted_under_their_route(door: Any) -> None:
    call, _down = door
    stored_by_middleware("/posts/")
    metrics.registry.reset()
    for _ in range(3):
        assert call("/posts/")[0] == 200
    snap = metrics.registry.snapshot("all")
    assert snap.histogram("perfsuite_http_request_seconds", route="posts/").count == 3
    assert snap.counter_total("perfsuite_cache_requests", result="hit") == 3


def test_the_door_stands_aside_when_it_cannot_know_the_answer() -> None:
    assert CacheFront.from_settings() is not None  # the demo's stack
    index = DEMO_MIDDLEWARE.index("perfsuite.cache.middleware.ResponseCacheMiddleware")
    with_locale = [
        *DEMO_MIDDLEWARE[:index],
        "django.middleware.locale.LocaleMiddleware",
        *DEMO_MIDDLEWARE[index:],
    ]
    unknown = ["tests.cache.test_front.Unknown", *DEMO_MIDDLEWARE]
    for stack in (with_locale, unknown, [m for m in DEMO_MIDDLEWARE if "ResponseCache" not in m]):
        with override_settings(MIDDLEWARE=stack):
            assert CacheFront.from_settings() is None


class Unknown:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_an_unreachable_redis_hands_the_request_to_django(server: str, seeded: None) -> None:
    from tests.services import free_port

    down = Downstream()
    with override_settings(CACHES=redis_caches(f"redis://127.0.0.1:{free_port()}/0")):
        if server == "wsgi":
            status = wsgi(FrontWSGI(down), "/products/", HOST)[0]
        else:
            status = asgi(FrontASGI(down.asgi), "/products/", HOST)[0]
    assert status == 418 and down.paths == ["/products/"]


def test_a_page_that_sets_a_cookie_is_never_answered_at_the_door(door: Any) -> None:
    call, down = door
    client = Client()
    client.get("/accounts/login/")  # sets the CSRF cookie: never stored
    assert client.get("/accounts/login/")["X-Cache"] != "HIT"
    assert call("/accounts/login/")[0] == 418 and down.paths == ["/accounts/login/"]


def test_a_hostile_host_is_djangos_400_without_a_warning_per_request(
    door: Any, caplog: pytest.LogCaptureFixture
) -> None:
    call, down = door
    stored_by_middleware("/products/")
    for _ in range(3):
        assert call("/products/", {"Host": "evil.example"})[0] == 418
    assert len(down.paths) == 3 and "front door" not in caplog.text
