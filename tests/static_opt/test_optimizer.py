"""The guide's API: ``StaticAssetOptimizer(static_dir, optimize_config).serve_static_file``."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.test.client import AsyncRequestFactory

from perfsuite.static_opt.optimizer import StaticAssetOptimizer
from tests.static_opt.conftest import SOURCES, Collected

rf = RequestFactory()


@pytest.fixture
def optimizer(collected: Collected) -> StaticAssetOptimizer:
    return StaticAssetOptimizer(collected.root)


def test_serves_indexed_files_with_the_middleware_headers(
    optimizer: StaticAssetOptimizer, collected: Collected
) -> None:
    name = collected.paths["css/site.css"]
    response = optimizer.serve_static_file(name, rf.get("/x", HTTP_ACCEPT_ENCODING="gzip"))
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == SOURCES["css/site.css"]
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    again = optimizer.serve_static_file(
        name, rf.get("/x", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"])
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["missing.css", "../secret.txt", "/etc/passwd", "css/../small.txt", "css\\x.css", ""]
)
def test_anything_not_indexed_is_404(optimizer: StaticAssetOptimizer, path: str) -> None:
    assert optimizer.serve_static_file(path, rf.get("/x")).status_code == 404


def test_config_keys_map_onto_the_behaviour(collected: Collected) -> None:
    optimizer = StaticAssetOptimizer(
        collected.root,
        {"enable_gzip": False, "enable_etags": False, "cache_max_age": 3600, "max_age": 5},
    )
    request = rf.get("/x", HTTP_ACCEPT_ENCODING="gzip, br, zstd")
    hashed = optimizer.serve_static_file(collected.paths["js/app.js"], request)
    assert "Content-Encoding" not in hashed
    assert "ETag" not in hashed
    assert hashed["Cache-Control"] == "public, max-age=3600, immutable"
    plain = optimizer.serve_static_file("js/app.js", request)
    assert plain["Cache-Control"] == "public, max-age=5"
    # Without ETags, Last-Modified still revalidates.
    again = optimizer.serve_static_file(
        "js/app.js", rf.get("/x", HTTP_IF_MODIFIED_SINCE=plain["Last-Modified"])
    )
    assert again.status_code == 304


def test_gzip_threshold(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_bytes(b"a { color: red }\n" * 100)  # 1,700 bytes
    request = rf.get("/x", HTTP_ACCEPT_ENCODING="gzip")
    low = StaticAssetOptimizer(tmp_path, {"gzip_threshold": 1024})
    assert low.serve_static_file("a.css", request)["Content-Encoding"] == "gzip"
    high = StaticAssetOptimizer(tmp_path, {"gzip_threshold": 4096})
    assert "Content-Encoding" not in high.serve_static_file("a.css", request)


def test_unknown_config_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="enable_gzp"):
        StaticAssetOptimizer(tmp_path, {"enable_gzp": True})


def test_works_in_an_async_view(optimizer: StaticAssetOptimizer, collected: Collected) -> None:
    async def view() -> bytes:
        request = AsyncRequestFactory().get("/x")
        response = optimizer.serve_static_file(collected.paths["big/large.js"], request)
        return b"".join([chunk async for chunk in response.streaming_content])

    assert asyncio.run(view()) == SOURCES["big/large.js"]
