"""The front door as a WSGI and as an ASGI application (:func:`.front.perfsuite_front`)."""

from __future__ import annotations

import asyncio
import inspect
import io
import os
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, BinaryIO

from .front import Answer, Responder, aanswer_for, answer_for, build_responders

_REASONS = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def is_asgi(application: Any) -> bool:
    """Django's ASGIHandler (or any ``async def app(scope, receive, send)``)."""
    call = application if inspect.isfunction(application) else type(application).__call__
    return inspect.iscoroutinefunction(call)


class _Front:
    def __init__(self, application: Any) -> None:
        self.application = application
        self._responders: list[Responder] | None = None

    @property
    def responders(self) -> list[Responder]:
        # built on the first request: every app is ready by then
        responders = self._responders
        if responders is None:
            responders = self._responders = build_responders()
        return responders

    def reset(self) -> None:
        """Build the responders again on the next request (settings changed)."""
        self._responders = None


class FrontWSGI(_Front):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        responders = self._responders
        if responders is None:
            responders = self.responders
        if responders:
            path = environ.get("PATH_INFO", "")
            if not path.isascii():  # a WSGI string: UTF-8 bytes read as latin-1
                try:
                    path = path.encode("latin-1").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    return self.application(environ, start_response)
            found = answer_for(responders, environ.get("REQUEST_METHOD", "GET"), path, environ)
            if found is not None:
                answer, headers = found
                start_response(_REASONS.get(answer.status, str(answer.status)), headers)
                return _wsgi_body(answer, environ)
        return self.application(environ, start_response)


def _wsgi_body(answer: Answer, environ: dict[str, Any]) -> Any:
    file = answer.file
    if file is None:
        return [answer.body] if answer.body else []  # no empty write for a 304 or HEAD
    wrapper = environ.get("wsgi.file_wrapper")
    whole = answer.start == 0 and answer.length == os.fstat(file.fileno()).st_size
    if wrapper is not None and whole:
        return wrapper(file, answer.chunk_size)  # gunicorn: sendfile
    return _FileSlice(file, answer.start, answer.length, answer.chunk_size)


class _FileSlice:
    """``length`` bytes of ``file`` from ``start``, in chunks; closes the file."""

    def __init__(self, file: BinaryIO, start: int, length: int, chunk: int) -> None:
        self.file, self.start, self.length, self.chunk = file, start, length, chunk

    def __iter__(self) -> Iterator[bytes]:
        offset, remaining = self.start, self.length
        while remaining > 0:
            data = os.pread(self.file.fileno(), min(self.chunk, remaining), offset)
            if not data:
                break
            offset += len(data)
            remaining -= len(data)
            yield data

    def close(self) -> None:
        self.file.close()


class FrontASGI(_Front):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            responders = self.responders
            path = scope.get("path", "")
            if responders and any(path.startswith(r.prefix) for r in responders):
                method = scope.get("method", "GET")
                found = await aanswer_for(responders, method, path, _environ(scope))
                if found is not None:
                    await _asgi_send(send, *found)
                    return
        await self.application(scope, receive, send)


def _environ(scope: dict[str, Any]) -> dict[str, Any]:
    """A WSGI environ for ``scope`` (as Django's ASGIRequest reads it): the request
    headers as ``HTTP_*`` (repeats joined), the query string, server and client."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    root = scope.get("root_path", "")
    path = scope.get("path", "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        # an ASGI path includes root_path; a WSGI PATH_INFO does not
        "PATH_INFO": path[len(root) :] if root and path.startswith(root) else path,
        "SCRIPT_NAME": root,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "REMOTE_ADDR": str(client[0]),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(b""),
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        value = raw_value.decode("latin-1")
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    return environ


async def _asgi_send(send: Any, answer: Answer, headers: list[tuple[str, str]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    file = answer.file
    if file is None:
        await send({"type": "http.response.body", "body": answer.body})
        return
    loop = asyncio.get_running_loop()
    offset, remaining = answer.start, answer.length
    try:
        while remaining > 0:
            size = min(answer.chunk_size, remaining)
            data = await loop.run_in_executor(None, os.pread, file.fileno(), size, offset)
            if not data:
                break  # the file shrank under us
            offset += len(data)
            remaining -= len(data)
            if remaining > 0:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            else:
                await send({"type": "http.response.body", "body": data})
                return
        await send({"type": "http.response.body", "body": b""})
    finally:
        file.close()


__all__ = ["FrontASGI", "FrontWSGI", "is_asgi"]
