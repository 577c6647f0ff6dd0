"""Retiring a uvicorn ``Server`` (gunicorn's ``UvicornWorker``) without resetting a client.

uvicorn's graceful exit (``should_exit``) stops accepting, then closes at once every
connection that is not in the middle of a request: an idle keep-alive connection, but
also one it accepted whose request it has not read yet. That client has sent its
request and reads a reset. Between an accept and the reading of its request lie a few
turns of the event loop, so under load the worker that retires drops the connections it
has just accepted (tests/memory/test_gunicorn_server.py saw it).

``request_exit`` therefore drains first, on the server's loop: it stops accepting (the
other gunicorn workers accept from the shared listening socket), waits until every
connection accepted has its request under way (``FIRST_REQUEST_TIMEOUT`` at most, for a
client that connects and sends nothing), and only then sets ``should_exit``; uvicorn
answers those requests, then closes their connections.

What it cannot spare: a keep-alive client sending its next request on an idle
connection just as the server closes it, the race every HTTP/1.1 server has; clients
retry such idempotent requests (RFC 9112, 9.3.1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["FIRST_REQUEST_TIMEOUT", "drain", "request_exit"]

#: seconds a retiring worker waits for the request of a connection it accepted
FIRST_REQUEST_TIMEOUT = 5.0
_POLL = 0.01


def request_exit(server: Any, log: Any) -> None:
    """From any thread: drain uvicorn's ``server`` on its own loop, then set its
    ``should_exit``. A server not serving yet (or unlike uvicorn's) is told at once."""
    try:
        loop = server.servers[0].get_loop()
        asyncio.run_coroutine_threadsafe(drain(server, log), loop)
    except Exception:
        server.should_exit = True


async def drain(server: Any, log: Any) -> None:
    """Stop accepting, wait for the requests of the connections accepted, then exit."""
    try:
        stop_accepting(server.servers)
        deadline = time.monotonic() + FIRST_REQUEST_TIMEOUT
        await asyncio.sleep(_POLL)  # connections accepted already get their protocol
        while time.monotonic() < deadline and any(
            awaits_request(connection) for connection in server.server_state.connections
        ):
            await asyncio.sleep(_POLL)
    except Exception:  # uvicorn changed: exit as before
        log.exception("perfsuite.memory: draining the uvicorn server failed")
    finally:
        server.should_exit = True


def stop_accepting(servers: Iterable[asyncio.AbstractServer]) -> None:
    """Stop calling ``accept()`` on the listening sockets, keeping what was accepted.

    On asyncio's selector loop, by removing the sockets' readers rather than with
    ``Server.close()``: a connection accepted in the same turn of the loop as a
    ``close()`` gets no transport (``Server._attach`` asserts the server still serves)
    and is dropped unanswered. uvicorn's own shutdown closes the servers later, once
    every accepted connection has its transport. Other loops (uvloop): ``close()``."""
    loop = asyncio.get_running_loop()
    for server in servers:
        if isinstance(loop, asyncio.SelectorEventLoop) and isinstance(server, asyncio.Server):
            for sock in server.sockets:
                loop.remove_reader(sock.fileno())
        else:
            server.close()


def awaits_request(connection: Any) -> bool:
    """An HTTP/1.1 connection (h11, httptools) accepted whose first request has not been
    read: uvicorn's shutdown would close it. Not a keep-alive connection between two
    requests (its last request's cycle stays), nor a websocket (no ``cycle``)."""
    return getattr(connection, "cycle", False) is None
