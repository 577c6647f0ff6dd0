"""Served over real HTTP by gunicorn (WSGI) and uvicorn (ASGI), DEBUG off: through the
front door (``perfsuite_front``, the demo's default) and through the middleware
(``PERFSUITE_FRONT=0``), with the same answers."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
import zstandard

from tests.static_opt.servers import Demo, prepare_demo, request, running, source

pytestmark = pytest.mark.slow

DECODE = {
    "br": brotli.decompress,
    "gzip": gzip.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}
LARGE = "admin/js/vendor/jquery/jquery.js"  # 285 KB: above the memory limit, streamed


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return prepare_demo(tmp_path_factory.mktemp("served"))


@pytest.fixture(params=["front door", "middleware"])
def env(request: pytest.FixtureRequest, demo: Demo) -> dict[str, str]:
    return {**demo.env, "PERFSUITE_FRONT": "1" if request.param == "front door" else "0"}


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_static_files_over_http(server: str, demo: Demo, env: dict[str, str]) -> None:
    css = "/static/" + demo.paths["shop/site.css"]
    with running(server, env) as port:
        for coding, decode in DECODE.items():
            status, headers, body = request(port, css, {"Accept-Encoding": coding})
            assert status == 200
            assert headers["content-encoding"] == coding
            assert decode(body) == source("shop/site.css")
            assert headers["cache-control"] == "public, max-age=31536000, immutable"
            assert headers["vary"] == "Accept-Encoding"
            assert int(headers["content-length"]) == len(body)
            # as Django's SecurityMiddleware and PerformanceMiddleware would write them
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"
            assert headers["server-timing"].startswith("total;dur=")

        status, headers, body = request(port, css, {"Accept-Encoding": "gzip, deflate, br, zstd"})
        etag = headers["etag"]
        status, headers, body = request(
            port, css, {"Accept-Encoding": "gzip, deflate, br, zstd", "If-None-Match": etag}
        )
        assert (status, body) == (304, b"")

        status, headers, body = request(port, css, {"Range": "bytes=0-0"})
        assert (status, headers["content-range"], body) == (
            206,
            f"bytes 0-0/{len(source('shop/site.css'))}",
            source("shop/site.css")[:1],
        )

        status, headers, body = request(port, css, method="HEAD")
        assert status == 200 and body == b""
        assert int(headers["content-length"]) == len(source("shop/site.css"))


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_large_files_stream(server: str, demo: Demo, env: dict[str, str]) -> None:
    url = "/static/" + demo.paths[LARGE]
    original = source(LARGE)
    with running(server, env) as port:
        status, headers, body = request(port, url)
        assert status == 200
        assert body == original
        assert int(headers["content-length"]) == len(original)
        status, headers, body = request(port, url, {"Range": "bytes=100000-200000"})
        assert status == 206
        assert body == original[100000:200001]


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_traversal_over_http(server: str, demo: Demo, env: dict[str, str]) -> None:
    settings_py = (Path(__file__).resolve().parents[2] / "project" / "settings.py").read_bytes()
    paths = [
        "/static/../project/settings.py",
        "/static/%2e%2e/project/settings.py",
        "/static/%2E%2E/%2E%2E/project/settings.py",
        "/static/..%2f..%2fproject%2fsettings.py",
        "/static/..%5c..%5cproject%5csettings.py",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/shop/site.css%00.png",
        "/static/./shop/site.css",
        "/static/shop//site.css",
        "/static/staticfiles.json",
        "/static/staticfiles.perfsuite.json",
    ]
    with running(server, env) as port:
        for path in paths:
            status, _headers, body = request(port, path)
            assert status in (400, 404), (server, path, status)
            assert b"SECRET_KEY" not in body and settings_py not in body
        status, _headers, _body = request(port, "/static/shop/site.css")
        assert status == 200
