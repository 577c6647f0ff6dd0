"""perfsuite.memory.uvicorn_drain against a real uvicorn ``Server`` on 127.0.0.1, run in a
thread: a connection accepted before the exit is answered, however late its request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from perfsuite.memory import uvicorn_drain
from tests.services import free_port


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def exception(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)


def wait_until(condition: Any, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.fixture
def server() -> Iterator[uvicorn.Server]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="off", log_config=None, http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "uvicorn started")
    yield server
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


def connect(server: uvicorn.Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.config.port), timeout=5)


def accepted(server: uvicorn.Server) -> int:
    return len(server.server_state.connections)


def accepting(server: uvicorn.Server) -> bool:
    """Whether the server's loop still watches a listening socket (drain not in effect)."""
    listening = server.servers[0]
    selector = listening.get_loop()._selector  # type: ignore[attr-defined]
    return any(sock.fileno() in selector.get_map() for sock in listening.sockets)


def test_a_connection_accepted_before_the_exit_is_answered(server: uvicorn.Server) -> None:
    early = connect(server)
    wait_until(lambda: accepted(server) == 1, "accepted")
    log = Log()
    uvicorn_drain.request_exit(server, log)
    wait_until(lambda: not accepting(server), "no longer accepting")  # on the server's loop
    late = connect(server)  # the kernel queues it; the retiring server no longer accepts
    time.sleep(0.2)
    assert not server.should_exit  # it waits for the request of the one accepted
    assert accepted(server) == 1

    early.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    response = early.makefile("rb").read()  # to the end: the server then closes it
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b"\r\n\r\n2\r\nok\r\n0\r\n\r\n")  # the whole body
    wait_until(lambda: server.should_exit, "asked to exit")
    assert log.lines == []
    early.close()
    late.close()


def test_a_silent_connection_delays_the_exit_a_bounded_time(
    server: uvicorn.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uvicorn_drain, "FIRST_REQUEST_TIMEOUT", 0.3)
    silent = connect(server)
    wait_until(lambda: accepted(server) == 1, "accepted")
    started = time.monotonic()
    uvicorn_drain.request_exit(server, Log())
    wait_until(lambda: server.should_exit, "asked to exit", timeout=5)
    assert 0.3 <= time.monotonic() - started < 3
    silent.close()


def test_an_idle_keep_alive_connection_does_not_delay_the_exit(server: uvicorn.Server) -> None:
    kept = connect(server)
    kept.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert kept.recv(4096).startswith(b"HTTP/1.1 200 ")
    started = time.monotonic()
    uvicorn_drain.request_exit(server, Log())
    wait_until(lambda: server.should_exit, "asked to exit")
    assert time.monotonic() - started < 1
    kept.close()


def test_a_server_not_serving_is_told_at_once() -> None:
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
    uvicorn_drain.request_exit(server, Log())  # no ``servers`` before its startup
    assert server.should_exit
