"""Small files from memory, large ones streamed: file_wrapper under WSGI, async under ASGI."""

from __future__ import annotations

import asyncio
from typing import Any

import asgiref.sync
import brotli
import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import AsyncClient, Client
from django.test.client import AsyncRequestFactory

from perfsuite.static_opt.engine.assets import Asset, Variant
from perfsuite.static_opt.engine.memory import MemoryCache
from perfsuite.static_opt.middleware import StaticFilesMiddleware
from tests.static_opt.conftest import SOURCES, Collected, Wsgi, use_root

pytestmark = pytest.mark.urls("tests.static_opt.urls")

LARGE = "big/large.js"


def test_small_files_are_served_from_memory(settings: Any, fresh: Collected) -> None:
    use_root(settings, fresh)
    client = Client()
    url = fresh.url("css/site.css")
    first = client.get(url, HTTP_ACCEPT_ENCODING="br")
    assert isinstance(first, HttpResponse) and not first.streaming
    for path in fresh.root.rglob("site.*"):
        path.unlink()
    again = client.get(url, HTTP_ACCEPT_ENCODING="br")
    assert again.status_code == 200
    assert again.content == first.content


def test_a_changed_file_is_not_served_with_stale_metadata(settings: Any, fresh: Collected) -> None:
    use_root(settings, fresh)
    client = Client()
    url = fresh.url(LARGE, hashed=False)
    assert client.get(url).status_code == 200
    (fresh.root / LARGE).write_bytes(b"replaced\n")
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content]) == (
        b"replaced\n"
    )
    assert response["Content-Length"] == "9"


def test_large_files_go_to_wsgi_file_wrapper(settings: Any, collected: Collected) -> None:
    use_root(settings, collected)
    used: list[Any] = []

    class Wrapper:
        def __init__(self, filelike: Any, block_size: int) -> None:
            used.append(filelike)
            self.filelike, self.block_size = filelike, block_size

        def __iter__(self) -> Any:
            return iter(lambda: self.filelike.read(self.block_size), b"")

        def close(self) -> None:
            self.filelike.close()

    status, headers, body = Wsgi().request(collected.url(LARGE), {"wsgi.file_wrapper": Wrapper})
    assert status == 200
    assert len(used) == 1 and hasattr(used[0], "fileno")  # the real file: sendfile-able
    assert body == SOURCES[LARGE]
    assert headers["Content-Length"] == str(len(SOURCES[LARGE]))


def test_large_files_stream_asynchronously_under_asgi(settings: Any, collected: Collected) -> None:
    use_root(settings, collected)

    async def fetch() -> tuple[Any, bytes]:
        response = await AsyncClient().get(collected.url(LARGE))
        assert isinstance(response, StreamingHttpResponse)
        assert response.is_async
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks)

    response, body = asyncio.run(fetch())
    assert response.status_code == 200
    assert body == SOURCES[LARGE]


def test_async_range_of_a_large_file(settings: Any, collected: Collected) -> None:
    use_root(settings, collected)

    async def fetch() -> bytes:
        response = await AsyncClient().get(collected.url(LARGE), headers={"Range": "bytes=70000-"})
        assert response.status_code == 206
        return b"".join([chunk async for chunk in response.streaming_content])

    assert asyncio.run(fetch()) == SOURCES[LARGE][70000:]


def test_async_requests_never_hop_to_a_thread(
    settings: Any, collected: Collected, monkeypatch: Any
) -> None:
    """Under ASGI the middleware is a coroutine and serves without sync_to_async."""
    use_root(settings, collected)
    hops: list[Any] = []
    real_init = asgiref.sync.SyncToAsync.__init__

    def spy(self: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        hops.append(func)
        real_init(self, func, *args, **kwargs)

    async def downstream(request: Any) -> Any:
        raise AssertionError("a static file must not reach the next layer")

    middleware = StaticFilesMiddleware(downstream)
    assert asyncio.iscoroutinefunction(middleware)
    factory = AsyncRequestFactory()
    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__init__", spy)

    async def serve() -> list[Any]:
        out = []
        for headers in ({"Accept-Encoding": "br"}, {"If-None-Match": "*"}, {"Range": "bytes=0-0"}):
            request = factory.get(collected.url("css/site.css"), headers=headers)
            out.append(await middleware(request))
        return out

    ok, not_modified, partial = asyncio.run(serve())
    assert hops == []
    assert brotli.decompress(ok.content) == SOURCES["css/site.css"]
    assert not_modified.status_code == 304
    assert partial.status_code == 206


def test_sync_middleware_passes_other_paths_on(settings: Any, collected: Collected) -> None:
    use_root(settings, collected)
    seen = []
    middleware = StaticFilesMiddleware(lambda request: seen.append(request.path) or "next")
    from django.test import RequestFactory

    assert middleware(RequestFactory().get("/page/")) == "next"
    assert middleware(RequestFactory().get("/static/missing.css")) == "next"
    assert seen == ["/page/", "/static/missing.css"]


def _variant(size: int) -> Variant:
    asset = Asset(f"f{size}", "/nowhere")
    return asset.set_identity(size, 0, '"x"')


def test_memory_budget_is_never_exceeded_and_hot_entries_survive() -> None:
    cache = MemoryCache(1000)
    hot, cold = _variant(400), _variant(400)
    assert cache.put(hot, b"h" * 400) and cache.put(cold, b"c" * 400)
    assert cache.get(hot) == b"h" * 400  # a hit marks it hot
    newcomer = _variant(400)
    assert cache.put(newcomer, b"n" * 400)
    assert cache.used <= 1000
    assert hot.data is not None  # second chance
    assert cold.data is None  # evicted
    assert not cache.put(_variant(2000), b"x" * 2000)  # larger than the whole budget
    assert cache.used <= 1000


def test_memory_budget_setting_bounds_what_is_kept(settings: Any, fresh: Collected) -> None:
    use_root(settings, fresh)
    settings.PERFSUITE = {"STORE": "local", "STATIC_MEMORY_TOTAL": 10_000}
    client = Client()
    url = fresh.url("css/site.css")  # 20,000 bytes: above the budget
    assert client.get(url).status_code == 200
    (fresh.root / fresh.paths["css/site.css"]).unlink()
    # Not kept in memory: the next identity request goes to the (now missing) file.
    assert client.get(url).status_code == 404
