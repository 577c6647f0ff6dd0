"""MemoryMiddleware through HTTP: a check only at its interval, never per request, and
the cleanup after the response, under WSGI and ASGI, anonymous and signed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import AsyncClient, Client, override_settings

from perfsuite.memory import middleware
from perfsuite.memory.manager import memory_manager
from tests.memory.conftest import MIDDLEWARE, counter, memory_settings, perfsuite

pytestmark = pytest.mark.django_db

REQUESTS = 1000


def serve(
    server: str,
    user: str,
    path: str = "/hello/",
    n: int = REQUESTS,
    each: Callable[[], object] = lambda: None,
) -> None:
    """``n`` requests through Django's test client of that server, as that user;
    ``each()`` before each one."""
    client: Any = Client() if server == "wsgi" else AsyncClient()
    expected = b"hello anonymous"
    if user == "signed_in":
        client.force_login(User.objects.create_user("alice"))
        expected = b"hello alice"
    if server == "wsgi":
        for _ in range(n):
            each()
            assert client.get(path).content == expected
        return

    async def run() -> None:
        for _ in range(n):
            each()
            assert (await client.get(path)).content == expected

    async_to_sync(run)()


@pytest.mark.parametrize("user", ["anonymous", "signed_in"])
@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_one_check_per_n_requests(server: str, user: str, count_reads: Callable[[], int]) -> None:
    with memory_settings(CHECK_EVERY_REQUESTS=100, CHECK_INTERVAL=0, THRESHOLD_MB=10**6):
        serve(server, user)
        assert counter("perfsuite_memory_checks") == REQUESTS / 100
        assert counter("perfsuite_memory_cleanups") == 0  # under the threshold
    assert count_reads() == REQUESTS / 100  # psutil read at each check, never per request


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_the_interval_and_the_count_whichever_comes_later(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]

    def tick() -> None:
        clock[0] += 1.0  # one "second" per request

    monkeypatch.setattr(middleware, "_monotonic", lambda: clock[0])
    # 100 requests take 100 s, more than 10 s: the count comes later, a check per 100
    with memory_settings(CHECK_EVERY_REQUESTS=100, CHECK_INTERVAL=10, THRESHOLD_MB=10**6):
        serve(server, "anonymous", each=tick)
        assert counter("perfsuite_memory_checks") == 10
    # 250 s take 250 requests, more than 100: the interval comes later, a check per
    # 250 requests counted from the first one (requests 251, 501 and 751)
    clock[0] = 0.0
    with memory_settings(CHECK_EVERY_REQUESTS=100, CHECK_INTERVAL=250, THRESHOLD_MB=10**6):
        serve(server, "anonymous", each=tick)
        assert counter("perfsuite_memory_checks") == 3


def test_below_n_requests_the_clock_is_not_even_read(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = [0]

    def clock() -> float:
        reads[0] += 1
        return 0.0

    monkeypatch.setattr(middleware, "_monotonic", clock)
    with memory_settings(CHECK_EVERY_REQUESTS=1000, CHECK_INTERVAL=0):
        serve("wsgi", "anonymous", n=999)
        assert counter("perfsuite_memory_checks") == 0
    assert reads[0] == 1  # at start-up only


def test_a_check_records_the_process_gauges() -> None:
    from perfsuite.core import metrics

    with memory_settings(CHECK_EVERY_REQUESTS=1, CHECK_INTERVAL=0, THRESHOLD_MB=10**6):
        serve("wsgi", "anonymous", n=1)
        snap = metrics.registry.snapshot("all")
    (rss,) = snap.gauge_values("perfsuite_memory_rss_bytes")
    (blocks,) = snap.gauge_values("perfsuite_memory_allocated_blocks")
    assert rss > 10 * 2**20 and blocks > 1000
    assert len(snap.gauge_values("perfsuite_memory_uss_bytes")) <= 1
    usage = memory_manager.get_memory_usage()
    if usage["container_usage_mb"] is not None:
        assert len(snap.gauge_values("perfsuite_memory_container_usage_bytes")) == 1
    if usage["container_limit_mb"] is not None:
        assert len(snap.gauge_values("perfsuite_memory_container_limit_bytes")) == 1


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_over_the_threshold_it_cleans_up_once_per_cooldown(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_manager, "_last_cleanup", -float("inf"))
    with memory_settings(CHECK_EVERY_REQUESTS=10, CHECK_INTERVAL=0, THRESHOLD_MB=1):
        serve(server, "signed_in", n=50)
        assert counter("perfsuite_memory_checks") == 5
        assert counter("perfsuite_memory_cleanups", reason="threshold_mb") == 1
        assert counter("perfsuite_memory_cleanups_skipped", reason="cooldown") == 4


def test_first_in_middleware_no_304_loses_a_check() -> None:
    """Why docs/memory.md says: put it first."""
    conditional = "django.middleware.http.ConditionalGetMiddleware"
    fresh = {"HTTP_IF_NONE_MATCH": '"v1"'}
    # below ConditionalGetMiddleware: its 304 replaces the response the check was on
    with memory_settings([conditional, MIDDLEWARE], CHECK_EVERY_REQUESTS=5, CHECK_INTERVAL=0):
        client = Client()
        assert all(client.get("/etag/", **fresh).status_code == 304 for _ in range(5))
        assert counter("perfsuite_memory_checks") == 0  # lost with the replaced response
        assert all(client.get("/etag/").status_code == 200 for _ in range(5))
        assert counter("perfsuite_memory_checks") == 1  # N requests later
    with memory_settings([MIDDLEWARE, conditional], CHECK_EVERY_REQUESTS=5, CHECK_INTERVAL=0):
        client = Client()
        assert all(client.get("/etag/", **fresh).status_code == 304 for _ in range(5))
        assert counter("perfsuite_memory_checks") == 1  # (a new PERFSUITE: a new store)


def test_disabled_by_setting_the_middleware_is_not_used(count_reads: Callable[[], int]) -> None:
    from django.core.exceptions import MiddlewareNotUsed

    with override_settings(PERFSUITE=perfsuite(ENABLED=False)), pytest.raises(MiddlewareNotUsed):
        middleware.MemoryMiddleware(lambda request: None)
    with memory_settings(ENABLED=False, CHECK_EVERY_REQUESTS=1, CHECK_INTERVAL=0):
        serve("wsgi", "anonymous", n=20)
        serve("asgi", "anonymous", n=20)
        assert counter("perfsuite_memory_checks") == 0
    assert count_reads() == 0


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_failing_check_never_fails_a_request(
    server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(uss: bool = True) -> Any:
        raise OSError("psutil is gone")

    monkeypatch.setattr(memory_manager, "read", broken)
    with memory_settings(CHECK_EVERY_REQUESTS=1, CHECK_INTERVAL=0):
        serve(server, "signed_in", n=3)
    assert "memory check failed" in caplog.text and "psutil is gone" in caplog.text
