"""The check and its cleanup run after the response was sent, never before: under
WSGI when the server closes the response (after the last byte), under ASGI after
the last body message, also for a streamed body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from asgiref.sync import async_to_sync
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from perfsuite.memory.manager import memory_manager
from tests.memory import urls
from tests.memory.conftest import MIDDLEWARE, counter, memory_settings

EVENTS = urls.EVENTS


@pytest.fixture(autouse=True)
def _spy_cleanups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every check cleans up (1 MB threshold, no cooldown); each cleanup is an event.
    The handlers run as a server runs them, without the database connection handling
    (as Django's test clients do)."""
    original = memory_manager.cleanup_memory

    def cleanup_memory(reason: str = "manual") -> dict[str, Any]:
        EVENTS.append("cleanup")
        return original(reason=reason)

    monkeypatch.setattr(memory_manager, "cleanup_memory", cleanup_memory)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with memory_settings(
            [MIDDLEWARE],
            CHECK_EVERY_REQUESTS=1,
            CHECK_INTERVAL=0,
            THRESHOLD_MB=1,
            CLEANUP_COOLDOWN=0,
        ):
            yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def wsgi_get(path: str) -> tuple[Any, list[str]]:
    environ: dict[str, Any] = {"PATH_INFO": path}
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        EVENTS.append("headers")
        return lambda data: None

    return WSGIHandler()(environ, start_response), status


@pytest.mark.parametrize("path", ["/hello/", "/stream/"])
def test_wsgi_cleans_up_when_the_server_closes_the_response(path: str) -> None:
    body, status = wsgi_get(path)
    assert status == ["200 OK"] and "cleanup" not in EVENTS  # returned to the server
    sent = b"".join(body)  # the server writes the body ...
    assert "cleanup" not in EVENTS
    body.close()  # ... then closes the response (PEP 3333)
    assert EVENTS[-1] == "cleanup" and EVENTS.count("cleanup") == 1
    if path == "/stream/":
        assert sent == b"part 0\npart 1\npart 2\n"
        assert EVENTS == ["headers", "part 0", "part 1", "part 2", "cleanup"]
    assert counter("perfsuite_memory_cleanups", reason="threshold_mb") == 1


def asgi_get(path: str) -> list[dict[str, Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        requested = False
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await never.wait()  # the client stays connected
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                EVENTS.append("last body message")

        await ASGIHandler()(scope, receive, send)

    async_to_sync(run)()
    return sent


@pytest.mark.parametrize("path", ["/hello/", "/hello-async/", "/stream-async/"])
def test_asgi_cleans_up_after_the_last_body_message(path: str) -> None:
    sent = asgi_get(path)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert EVENTS[-2:] == ["last body message", "cleanup"]
    assert EVENTS.count("cleanup") == 1
    if path == "/stream-async/":
        assert EVENTS == ["part 0", "part 1", "part 2", "last body message", "cleanup"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body.startswith(b"hello") or body == b"part 0\npart 1\npart 2\n"
    assert counter("perfsuite_memory_cleanups", reason="threshold_mb") == 1
