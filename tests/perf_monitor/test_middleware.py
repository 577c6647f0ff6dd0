from __future__ import annotations

import random
import re
import string
import time

import pytest
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.perf_monitor import metrics as recorder
from tests.perf_monitor import urls
from tests.perf_monitor.conftest import snapshot

pytestmark = pytest.mark.urls("tests.perf_monitor.urls")
LATENCY = recorder.REQUEST_SECONDS


def server_timing(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [part.strip() for part in response.headers["Server-Timing"].split(", ")]


ALL_DETAILS = {"STORE": "local", "SERVER_TIMING_DETAILS": "all"}


@override_settings(PERFSUITE=ALL_DETAILS)
def test_response_time_and_server_timing_headers(client: Client) -> None:
    response = client.get("/timed/")
    assert response.status_code == 200
    assert re.fullmatch(r"\d+\.\d{3}s", response.headers["X-Response-Time"])
    parts = server_timing(response)
    assert re.fullmatch(r"total;dur=\d+\.\d{3}", parts[0])
    assert parts[1] == 'db;dur=12.300;desc="orders \\"big\\" \\\\ query"'
    assert parts[2] == "cache_hit!;dur=1.000"  # a space is not a token character
    total_ms = float(parts[0].split("=")[1])
    assert total_ms / 1000 == pytest.approx(
        float(response.headers["X-Response-Time"][:-1]), abs=0.002
    )
    assert "Timing-Allow-Origin" not in response.headers


def test_existing_server_timing_is_kept(client: Client) -> None:
    parts = server_timing(client.get("/upstream/"))
    assert parts[0] == "cdn;dur=1.5"
    assert parts[1].startswith("total;dur=")


def test_timing_allow_origin_is_opt_in(client: Client) -> None:
    with override_settings(PERFSUITE={"TIMING_ALLOW_ORIGIN": "https://example.com"}):
        response = client.get("/ok/")
    assert response.headers["Timing-Allow-Origin"] == "https://example.com"


def test_headers_can_be_switched_off(client: Client) -> None:
    with override_settings(PERFSUITE={"SERVER_TIMING": False, "RESPONSE_TIME_HEADER": False}):
        response = client.get("/ok/")
        # read before the settings change back (that swaps the store)
        assert snapshot().histogram(LATENCY).count == 1
    assert "Server-Timing" not in response.headers
    assert "X-Response-Time" not in response.headers


def test_routes_are_labelled_by_pattern_never_by_raw_path(client: Client) -> None:
    for pk in range(5):
        client.get(f"/items/{pk}/")
    client.get("/no/such/page/")
    snap = snapshot()
    assert snap.histogram(LATENCY, route="items/<int:pk>/", method="GET", status="2xx").count == 5
    assert snap.histogram(LATENCY, route=recorder.UNMATCHED, status="4xx").count == 1
    routes = {s.labels["route"] for s in snap.series(LATENCY)}
    assert routes == {"items/<int:pk>/", recorder.UNMATCHED}


def test_raised_exception_is_one_5xx_observation() -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/boom/").status_code == 500
    assert client.get("/five-hundred/").status_code == 500
    snap = snapshot()
    assert snap.histogram(LATENCY, route="boom/", status="5xx").count == 1
    assert snap.histogram(LATENCY, route="five-hundred/", status="5xx").count == 1
    assert snap.histogram(LATENCY).count == 2


def test_raised_exception_is_re_raised_and_counted_once(client: Client) -> None:
    with pytest.raises(RuntimeError, match="view failed"):
        client.get("/boom/")
    assert snapshot().histogram(LATENCY, status="5xx").count == 1


def test_invented_methods_share_one_label(client: Client) -> None:
    rng = random.Random(5)
    for _ in range(50):
        method = "".join(rng.choice(string.ascii_uppercase) for _ in range(8))
        client.generic(method, "/ok/")
    client.generic("GET", "/ok/")
    methods = {s.labels["method"] for s in snapshot().series(LATENCY)}
    assert methods == {"OTHER", "GET"}


def test_ten_thousand_unknown_paths_create_no_series(client: Client) -> None:
    client.get("/unknown/warm-up/")
    before = metrics.registry.get(LATENCY).series_count()
    for i in range(10_000):
        client.get(f"/unknown/{i}/")
    snap = snapshot()
    assert len(snap.series(LATENCY)) == 1
    assert snap.histogram(LATENCY).count == 10_001
    assert metrics.registry.get(LATENCY).series_count() == before


def test_bookkeeping_failure_never_breaks_the_response(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ZeroDivisionError("bug in monitoring")

    monkeypatch.setattr(recorder, "record_request", broken)
    response = client.get("/ok/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_queue_time_from_front_server_stamp(client: Client) -> None:
    stamp = time.time() - 0.25
    client.get("/ok/", HTTP_X_REQUEST_START=f"t={stamp:.3f}")
    client.get("/ok/", HTTP_X_QUEUE_START=f"t={int(stamp * 1e6)}")  # microseconds
    for bad in ("t=abc", "t=", "nan", "t=-5", "t=99999999999999999999", "\x00"):
        assert client.get("/ok/", HTTP_X_REQUEST_START=bad).status_code == 200
    hist = snapshot().histogram("perfsuite_http_queue_seconds")
    assert hist.count == 2
    assert hist.min >= 0.2 and hist.max < 5


def test_psutil_is_sampled_at_most_once_per_interval(client: Client) -> None:
    for _ in range(30):
        client.get("/ok/")
    snap = snapshot()
    assert snap.histogram("perfsuite_process_rss_sample_bytes").count == 1
    assert snap.gauge_values("perfsuite_process_rss_bytes")[0] > 10 * 1024 * 1024


def test_inflight_returns_to_zero(client: Client) -> None:
    client.get("/ok/")
    assert snapshot().gauge_values("perfsuite_http_inflight") == [0.0]


def test_slowest_requests_are_bounded(client: Client) -> None:
    with override_settings(PERFSUITE={"SLOW_REQUESTS_KEPT": 3}):
        for pk in range(10):
            client.get(f"/items/{pk}/")
        slow = recorder.slowest.recent()
    assert len(slow) == 3
    assert [s["duration"] for s in slow] == sorted((s["duration"] for s in slow), reverse=True)


def test_the_slowest_are_kept_after_a_clear_or_expiry() -> None:
    """A request no slower than the kept ones is skipped without the lock (its floor);
    once the kept ones are cleared or expire, any request is kept again."""
    kept = recorder.slowest

    def answered(*durations: float) -> list[float]:
        for duration in durations:
            recorder.record_answer("r/", "GET", 200, duration, time.time())
        return [s["duration"] for s in kept.recent()]

    with override_settings(PERFSUITE={"SLOW_REQUESTS_KEPT": 3}):
        assert answered(0.5, 0.6, 0.7, 0.1) == [0.7, 0.6, 0.5]
        kept.clear()
        assert answered(0.2) == [0.2]
        assert answered(0.3, 0.4, 0.05) == [0.4, 0.3, 0.2]
        assert kept.recent(max_age=-1) == []  # all expired
        assert answered(0.01) == [0.01]


@override_settings(PERFSUITE=ALL_DETAILS)
def test_async_view_under_asgi(async_client) -> None:  # type: ignore[no-untyped-def]
    from asgiref.sync import async_to_sync

    response = async_to_sync(async_client.get)("/async/")
    assert response.status_code == 200
    parts = server_timing(response)
    assert parts[0].startswith("total;dur=")
    assert parts[1] == "async_work;dur=2.000"
    snap = snapshot()
    assert snap.histogram(LATENCY, route="async/").count == 1


def test_middleware_is_a_coroutine_in_an_async_stack() -> None:
    from asgiref.sync import iscoroutinefunction

    from perfsuite.perf_monitor.middleware import PerformanceMiddleware

    async def inner(request):  # type: ignore[no-untyped-def]
        return None

    assert iscoroutinefunction(PerformanceMiddleware(inner))
    assert not iscoroutinefunction(PerformanceMiddleware(lambda r: None))


def test_a_client_disconnect_under_asgi_is_not_a_server_error() -> None:
    """Django cancels the view when the client goes away; that is counted apart."""
    import asyncio

    from django.core.handlers.asgi import ASGIHandler

    async def abandon() -> None:
        handler = ASGIHandler()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/slow-async/",
            "raw_path": b"/slow-async/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
        started = asyncio.Event()
        urls.VIEW_STARTED[:] = [started]

        async def receive() -> dict:
            try:
                return next(messages)
            except StopIteration:
                await started.wait()  # the client hangs up while the view runs
                return {"type": "http.disconnect"}

        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        await handler(scope, receive, send)
        assert not any(m.get("status") == 500 for m in sent)

    for _ in range(20):
        asyncio.run(abandon())
    snap = snapshot()
    assert snap.counter_total("perfsuite_http_client_disconnects", route="slow-async/") == 20
    assert snap.histogram(LATENCY, route="slow-async/", status="5xx").count == 0
    assert snap.histogram(LATENCY, route="slow-async/").count == 0
    assert recorder._inflight() == 0


def test_server_timing_tells_visitors_only_the_total_by_default(client: Client) -> None:
    parts = server_timing(client.get("/timed/"))
    assert len(parts) == 1 and parts[0].startswith("total;dur=")


@pytest.mark.django_db
@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_server_timing_details_for_staff_only(server: str) -> None:
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import User
    from django.test import AsyncClient

    def get(client: Client | AsyncClient, path: str) -> object:
        if isinstance(client, AsyncClient):
            return async_to_sync(client.get)(path)
        return client.get(path)

    with override_settings(PERFSUITE={"STORE": "local", "SERVER_TIMING_DETAILS": "staff"}):
        visitor = Client() if server == "wsgi" else AsyncClient()
        assert len(server_timing(get(visitor, "/timed/"))) == 1
        staff = Client() if server == "wsgi" else AsyncClient()
        staff.force_login(User.objects.create_user("ops", is_staff=True))
        parts = server_timing(get(staff, "/timed/"))
        assert parts[1].startswith("db;dur=12.300")


def test_server_timing_details_for_allowed_origins(client: Client) -> None:
    allowed = {"STORE": "local", "SERVER_TIMING_DETAILS": ["https://ops.example"]}
    with override_settings(PERFSUITE=allowed):
        assert len(server_timing(client.get("/timed/", HTTP_ORIGIN="https://ops.example"))) == 3
        assert len(server_timing(client.get("/timed/", HTTP_ORIGIN="https://evil.example"))) == 1
        assert len(server_timing(client.get("/timed/"))) == 1


def test_server_timing_entries_are_capped() -> None:
    from perfsuite.core import timing
    from perfsuite.perf_monitor.middleware import server_timing_value

    token = timing.begin()
    try:
        for n in range(500):
            timing.add(f"step{n}", 0.001, "x" * 5000)
        value = server_timing_value(0.5, True, 20)
    finally:
        timing.end(token)
    parts = value.split(", ")
    assert len(parts) == 22  # total, 20 entries, other
    assert parts[-1] == "other;dur=480.000"
    assert len(value) < 4096, "a proxy's header limit"
