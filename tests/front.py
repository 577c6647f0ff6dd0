"""Drive the front door (``perfsuite_front``) as a WSGI or ASGI server would, over a
wrapped application that records what reached it."""

from __future__ import annotations

import asyncio
import io
import sys
from typing import Any


class Downstream:
    """The wrapped application: records what reached it, answers 418."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [b"django"]

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})


def joined(headers: Any) -> dict[str, str]:
    """Headers by lower-case name, a repeated one joined with ", " (as HTTP reads it:
    a duplicate shows)."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def wsgi(app: Any, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Any:
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()},
    }
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = joined((k, v) for k, v in response_headers)

    result = app(environ, start_response)
    body = b"".join(result)
    getattr(result, "close", lambda: None)()
    return seen["status"], seen["headers"], body


def asgi(app: Any, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Any:
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    assert all(m.get("more_body") for m in sent[1:-1]) and not sent[-1].get("more_body")
    head = joined((k.decode(), v.decode()) for k, v in start["headers"])
    return start["status"], head, b"".join(m.get("body", b"") for m in sent[1:])
