"""Fixtures of the static_opt tests: a source tree, collected roots, clients, raw WSGI."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings

from perfsuite.core import metrics

OURS = "perfsuite.static_opt.storage.CompressedManifestStaticFilesStorage"
PLAIN_MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
PLAIN = "django.contrib.staticfiles.storage.StaticFilesStorage"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "perfsuite.static_opt.middleware.StaticFilesMiddleware",
]
FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
CHROME = "gzip, deflate, br, zstd"


def storages(backend: str) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": backend},
    }


def stylesheet(size: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    out, length, i = [], 0, 0
    while length < size:
        rule = (
            f".block-{i} .item-{rnd.randrange(99)}:hover {{ color: #{rnd.randrange(0xFFFFFF):06x};"
            f" margin: {rnd.randrange(40)}px {rnd.randrange(40)}px; display: "
            f"{rnd.choice(['flex', 'grid', 'block'])}; }}\n"
        )
        out.append(rule)
        length += len(rule)
        i += 1
    return "".join(out)[:size]


def script(size: int, seed: int = 2) -> str:
    rnd = random.Random(seed)
    out, length, i = [], 0, 0
    while length < size:
        part = (
            f"function handler{i}(event) {{ return document.querySelector('[data-id=\""
            f"{rnd.randrange(10**6)}\"]') || event.detail + {rnd.randrange(999)}; }}\n"
        )
        out.append(part)
        length += len(part)
        i += 1
    return "".join(out)[:size]


SOURCES: dict[str, bytes] = {
    "css/site.css": stylesheet(20_000).encode(),
    "js/app.js": script(8_000).encode(),
    "js/module.mjs": script(2_000, 3).encode(),
    "small.txt": b"tiny file below the compression threshold\n",
    "empty.css": b"",
    "img/photo.png": random.Random(4).randbytes(5_000),
    "fonts/font.woff2": random.Random(5).randbytes(3_000),
    "img/pic.avif": random.Random(6).randbytes(2_000),
    "img/pic.webp": random.Random(7).randbytes(2_000),
    "wasm/mod.wasm": b"\x00asm\x01\x00\x00\x00" + bytes(4_000),
    "data/data.json": json.dumps({"items": list(range(800))}).encode(),
    "img/icon.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg">'
        + "".join(f'<circle cx="{i}" cy="{i}" r="3"/>' for i in range(120))
        + "</svg>"
    ).encode(),
    "noise.txt": random.Random(8).randbytes(4_000),
    "big/large.js": script(600_000, 9).encode(),
    "assets/index-4f3c2a1b.js": script(1_500, 10).encode(),
    "dist/main.7f3a2c1e9b.chunk.js": script(1_500, 11).encode(),
    "app.20240101.js": script(1_500, 12).encode(),
    "dir with space/file.css": stylesheet(3_000, 13).encode(),
}


@dataclass
class Collected:
    root: Path
    src: Path
    paths: dict[str, str]

    def url(self, name: str, hashed: bool = True) -> str:
        return "/static/" + (self.paths[name] if hashed else name)

    def original(self, name: str) -> bytes:
        return SOURCES[name]


def edit(path: Path, data: bytes) -> None:
    """Change a source file so collectstatic sees it: it compares mtimes to the second."""
    path.write_bytes(data)
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))


def write_sources(target: Path, files: dict[str, bytes] = SOURCES) -> Path:
    for name, data in files.items():
        path = target.joinpath(*name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return target


def collect(root: Path, src: Path, backend: str = OURS, **extra: Any) -> dict[str, str]:
    with override_settings(
        STATIC_ROOT=str(root),
        STATICFILES_DIRS=[str(src)],
        STATICFILES_FINDERS=FINDERS,
        STORAGES=storages(backend),
        **extra,
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = root / "staticfiles.json"
    return json.loads(manifest.read_text())["paths"] if manifest.exists() else {}


@pytest.fixture(scope="session")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sources(tmp_path_factory.mktemp("src"))


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory, source_dir: Path) -> Collected:
    """Collected once with our storage; tests must not change it (use ``fresh``)."""
    root = tmp_path_factory.mktemp("static") / "root"
    return Collected(root, source_dir, collect(root, source_dir))


@pytest.fixture
def fresh(tmp_path: Path, source_dir: Path) -> Collected:
    """A collected root of this test's own, free to change."""
    src = write_sources(tmp_path / "src")
    root = tmp_path / "root"
    return Collected(root, src, collect(root, src))


def use_root(settings: Any, target: Collected, backend: str = OURS) -> None:
    settings.STATIC_ROOT = str(target.root)
    settings.STATICFILES_DIRS = [str(target.src)]
    settings.STATICFILES_FINDERS = FINDERS
    settings.STORAGES = storages(backend)
    settings.MIDDLEWARE = MIDDLEWARE
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.static_opt.urls"


@pytest.fixture
def static_client(settings: Any, collected: Collected) -> Client:
    """A test client whose middleware serves the shared collected root."""
    use_root(settings, collected)
    return Client()


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    metrics.registry.reset()
    yield


class Wsgi:
    """Drive Django's WSGI handler with a raw environ, as a server would."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def request(
        self, path_info: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path_info,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            **(headers or {}),
        }
        seen: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info=None):  # type: ignore[no-untyped-def]
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(response_headers)

        # As Django's test client does: the handler's request signals must not touch
        # database connections another test opened (pytest-django blocks them).
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                result.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return seen["status"], seen["headers"], body


@pytest.fixture
def wsgi(settings: Any, collected: Collected) -> Wsgi:
    use_root(settings, collected)
    return Wsgi()


def copy_root(source: Collected, target: Path) -> Collected:
    shutil.copytree(source.root, target, symlinks=True)
    return Collected(target, source.src, dict(source.paths))
