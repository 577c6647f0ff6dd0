"""From an engine :class:`~.engine.responder.Outcome` to a Django response.

- a body the memory budget holds (or none: HEAD, 304, errors): ``HttpResponse``;
- a large file under WSGI: ``FileResponse``, which Django hands to the server's
  ``wsgi.file_wrapper`` (gunicorn uses ``sendfile``);
- a large file under ASGI: ``StreamingHttpResponse`` over an async iterator that
  reads chunks with ``os.pread`` in the loop's executor, so Django never falls
  back to reading the whole file into memory.

Headers are copied from the prebuilt store in one step instead of being
validated one by one (they were validated when the store was built).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import BinaryIO

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from perfsuite.core.headers import replace_headers

from .engine.assets import Store
from .engine.responder import Outcome, Responder


def _set_headers(response: HttpResponseBase, store: Store) -> HttpResponseBase:
    replace_headers(response, store)
    return response


class _FileResponse(FileResponse):
    """A FileResponse whose headers are all ours (no guessing from the file name)."""

    def set_headers(self, filelike: object) -> None:
        pass


class _Slice:
    """A file-like view of ``length`` bytes from ``start``: ranges under WSGI."""

    def __init__(self, file: BinaryIO, start: int, length: int) -> None:
        file.seek(start)
        self.file = file
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.file.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def _read_at(file: BinaryIO, offset: int, size: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(file.fileno(), size, offset)
    file.seek(offset)  # pragma: no cover - platforms without pread
    return file.read(size)


class AsyncFileStream:
    """Async chunks of a file slice; ``close()`` is called by the response."""

    def __init__(self, file: BinaryIO, start: int, length: int, chunk_size: int) -> None:
        self.file = file
        self.start = start
        self.length = length
        self.chunk_size = chunk_size

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        offset, remaining = self.start, self.length
        try:
            while remaining > 0:
                size = min(self.chunk_size, remaining)
                data = await loop.run_in_executor(None, _read_at, self.file, offset, size)
                if not data:
                    break
                offset += len(data)
                remaining -= len(data)
                yield data
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


def make_response(responder: Responder, outcome: Outcome, request: HttpRequest) -> HttpResponseBase:
    """The Django response for ``outcome``; raises StaleFile if the file changed."""
    status, store, variant, start, length = outcome
    if variant is None or length == 0:
        return _set_headers(HttpResponse(b"", status=status), store)
    data = responder.body(variant)
    if data is not None:
        if length != len(data):
            data = data[start : start + length]
        return _set_headers(HttpResponse(data, status=status), store)
    file = responder.open(variant)
    chunk = responder.options.chunk_size
    if isinstance(request, ASGIRequest):
        stream = AsyncFileStream(file, start, length, chunk)
        return _set_headers(StreamingHttpResponse(stream, status=status), store)
    source: BinaryIO | _Slice = file
    if start != 0 or length != variant.size:
        source = _Slice(file, start, length)
    response = _FileResponse(source, status=status)
    response.block_size = chunk
    return _set_headers(response, store)
