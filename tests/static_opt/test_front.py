"""The front door (``perfsuite_front``) answers static files before Django's handler,
WSGI and ASGI, with the middleware's answers: the wrapped application is never
called for a file of the index, and gets everything else untouched."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from perfsuite.core import front, metrics
from perfsuite.core.front_servers import FrontASGI, FrontWSGI
from tests.front import Downstream, asgi, wsgi
from tests.static_opt.conftest import CHROME, MIDDLEWARE, Collected, use_root

PERF = ["perfsuite.perf_monitor.middleware.PerformanceMiddleware"]
#: headers whose values differ between two answers of the same request
VOLATILE = {"server-timing", "x-response-time", "date"}


@pytest.fixture
def served(settings: Any, collected: Collected) -> Collected:
    use_root(settings, collected)
    settings.MIDDLEWARE = [MIDDLEWARE[0], *PERF, *MIDDLEWARE[1:]]
    return collected


@pytest.fixture(params=["wsgi", "asgi"])
def door(request: pytest.FixtureRequest, served: Collected) -> Any:
    """(call, downstream): the front door over an application that must not be reached."""
    down = Downstream()
    if request.param == "wsgi":
        app = FrontWSGI(down)
        return (lambda *a, **k: wsgi(app, *a, **k)), down
    app_a = FrontASGI(down.asgi)
    return (lambda *a, **k: asgi(app_a, *a, **k)), down


def comparable(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}


REQUESTS = [
    ("css/site.css", {"Accept-Encoding": CHROME}, "GET"),
    ("css/site.css", {"Accept-Encoding": "gzip"}, "GET"),
    ("css/site.css", {}, "HEAD"),
    ("css/site.css", {"Range": "bytes=10-99"}, "GET"),
    ("css/site.css", {"Range": "bytes=99999999-"}, "GET"),
    ("big/large.js", {}, "GET"),
    ("big/large.js", {"Range": "bytes=100000-300000", "Accept-Encoding": "identity"}, "GET"),
    ("img/photo.png", {"Accept-Encoding": CHROME}, "GET"),
    ("empty.css", {}, "GET"),
    ("css/site.css", {}, "POST"),
]


@pytest.mark.parametrize(
    "perfsuite, want",
    [
        ({"TIMING_ALLOW_ORIGIN": "https://app.example"}, ("total;dur=", "https://app.example")),
        ({"SERVER_TIMING": False, "RESPONSE_TIME_HEADER": False}, None),
    ],
)
def test_the_door_writes_the_timing_headers_the_settings_ask_for(
    door: Any, served: Collected, perfsuite: dict[str, Any], want: Any
) -> None:
    call, down = door
    with override_settings(PERFSUITE={"STORE": "local", **perfsuite}):
        status, got, _body = call(served.url("css/site.css"), {"Accept-Encoding": CHROME})
        assert (
            metrics.registry.snapshot()
            .histogram("perfsuite_http_request_seconds", route="<static>")
            .count
            == 1
        ), "counted even without its headers"
    assert status == 200 and down.paths == []
    if want is None:
        assert "server-timing" not in got and "x-response-time" not in got
    else:
        assert got["server-timing"].startswith(want[0]) and "," not in got["server-timing"]
        assert got["timing-allow-origin"] == want[1], "once, not repeated"
        assert got["x-response-time"].endswith("s")


def test_the_front_door_answers_as_the_middleware_without_django(
    door: Any, served: Collected
) -> None:
    call, down = door
    client = Client()
    for name, headers, method in REQUESTS:
        url = served.url(name)
        status, got, body = call(url, headers, method)
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        expected = client.generic(method, url, **extra)
        want_body = b"".join(expected.streaming_content) if expected.streaming else expected.content
        assert status == expected.status_code, (name, headers, method)
        assert body == want_body, (name, headers, method)
        assert comparable(got) == comparable(dict(expected.headers)), (name, headers, method)
        assert got["server-timing"].startswith("total;dur=")
    etag = call(served.url("css/site.css"), {"Accept-Encoding": CHROME})[1]["etag"]
    status, _h, body = call(
        served.url("css/site.css"), {"Accept-Encoding": CHROME, "If-None-Match": etag}
    )
    assert (status, body) == (304, b"")
    assert down.paths == [], "no request reached the wrapped application"


def test_everything_else_goes_to_django_untouched(door: Any, served: Collected) -> None:
    call, down = door
    hostile = ["/static/../settings.py", "/static/%2e%2e/x", "/static/nope.css", "/static/"]
    for path in ["/", "/admin/", "/staticx/css/site.css", *hostile]:
        status, _headers, body = call(path)
        assert (status, body) == (418, b"django"), path
    assert len(down.paths) == 7


def test_answered_requests_are_counted_under_the_static_route(door: Any, served: Collected) -> None:
    call, _down = door
    metrics.registry.reset()
    for _ in range(3):
        call(served.url("js/app.js"))
    snap = metrics.registry.snapshot("all")
    assert snap.histogram("perfsuite_http_request_seconds", route="<static>").count == 3
    assert snap.counter_total("perfsuite_static_requests") == 3


def test_a_failing_responder_fails_open(door: Any, served: Collected, monkeypatch: Any) -> None:
    call, down = door
    from perfsuite.static_opt.front import StaticFront

    def broken(self: Any, *args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(StaticFront, "answer", broken)
    assert call(served.url("js/app.js"))[0] == 418
    assert down.paths == [served.url("js/app.js")]


def test_non_ascii_file_names_under_wsgi(served: Collected) -> None:
    down = Downstream()
    app = FrontWSGI(down)
    # a WSGI server hands PATH_INFO over as UTF-8 bytes read as latin-1
    raw = served.url("dir with space/file.css").encode().decode("latin-1")
    assert wsgi(app, raw)[0] == 200
    assert wsgi(app, "/static/\xff\xfe")[0] == 418  # not UTF-8: Django decides


def test_without_static_files_the_door_is_empty(settings: Any) -> None:
    from perfsuite.static_opt.front import StaticFront

    with override_settings(STATIC_URL=None):
        assert not any(isinstance(r, StaticFront) for r in front.build_responders())
