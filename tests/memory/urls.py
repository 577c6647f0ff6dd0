"""Views of the memory tests: a plain page, an async one, and streamed bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

#: what the views did, in order (the tests read it with the cleanups they spy on)
EVENTS: list[str] = []


def hello(request: HttpRequest) -> HttpResponse:
    user = getattr(request, "user", None)
    name = user.username if user is not None and user.is_authenticated else "anonymous"
    return HttpResponse(f"hello {name}")


def etag(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("versioned")
    response["ETag"] = '"v1"'
    return response


async def hello_async(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello async")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def parts() -> Iterator[bytes]:
        for n in range(3):
            EVENTS.append(f"part {n}")
            yield f"part {n}\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


def stream_async(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        for n in range(3):
            EVENTS.append(f"part {n}")
            yield f"part {n}\n".encode()

    return StreamingHttpResponse(parts(), content_type="text/plain")


urlpatterns = [
    path("hello/", hello),
    path("hello-async/", hello_async),
    path("etag/", etag),
    path("stream/", stream),
    path("stream-async/", stream_async),
]
