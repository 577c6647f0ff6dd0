"""What the static_opt benchmarks share: the source files, the collected root,
in-process WSGI/ASGI handlers for each middleware stack, and collectstatic.

Not a benchmark itself: ``bench_static_opt.py`` (in-process and bytes on the wire),
``bench_static_startup.py`` (collectstatic and start-up) and ``bench_static_http.py``
(gunicorn + wrk) import it.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, asgi_request, setup_django

QUICK = "--quick" in sys.argv
N = 1000 if QUICK else 3000
N_ASYNC = 300 if QUICK else 1000
REPS = 5 if QUICK else 7
MANY_FILES = 1000 if QUICK else 5000
WRK_SECONDS = 3 if QUICK else 5
WRK_REPS = 2 if QUICK else 3

WORK = Path(tempfile.mkdtemp(prefix="perfsuite-bench-static-"))
SRC = WORK / "src"
COLLECTED = WORK / "collected"
os.environ["PERFSUITE_BENCH_SRC"] = str(SRC)
os.environ["PERFSUITE_STATIC_ROOT"] = str(COLLECTED)

CHROME = "gzip, deflate, br, zstd"
CASES = {
    "brotli": {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"},
    "gzip": {"HTTP_ACCEPT_ENCODING": "gzip"},
    "identity": {},
}
OURS = "perfsuite.static_opt.middleware.StaticFilesMiddleware"
WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"
STACKS = {"WhiteNoise 6.12": [WHITENOISE], "static_opt": [OURS]}


# -- source files ------------------------------------------------------------------
def stylesheet(size: int, seed: int) -> str:
    """A stylesheet of about ``size`` bytes: varied selectors, properties and values."""
    rnd = random.Random(seed)
    blocks = ["btn", "card", "nav", "header", "footer", "list", "item", "form", "table", "modal"]
    props = [
        ("color", lambda: f"#{rnd.randrange(0xFFFFFF):06x}"),
        ("background-color", lambda: f"#{rnd.randrange(0xFFFFFF):06x}"),
        ("margin", lambda: f"{rnd.randrange(40)}px {rnd.randrange(40)}px"),
        ("padding", lambda: f"{rnd.randrange(3)}.{rnd.randrange(10)}rem"),
        ("font-size", lambda: f"{rnd.randrange(10, 30)}px"),
        ("line-height", lambda: f"1.{rnd.randrange(10)}"),
        ("border-radius", lambda: f"{rnd.randrange(12)}px"),
        ("display", lambda: rnd.choice(["flex", "grid", "block", "inline-block", "none"])),
        ("width", lambda: f"{rnd.randrange(100)}%"),
        ("transition", lambda: f"opacity {rnd.randrange(50, 400)}ms ease-out"),
    ]
    out: list[str] = []
    length = 0
    i = 0
    while length < size:
        block = rnd.choice(blocks)
        decls = "; ".join(f"{name}: {value()}" for name, value in rnd.sample(props, 3))
        rule = f".{block}--{block}-{i} > .{rnd.choice(blocks)}:hover {{ {decls}; }}\n"
        out.append(rule)
        length += len(rule)
        i += 1
    return "".join(out)


def script(size: int, seed: int) -> str:
    rnd = random.Random(seed)
    out: list[str] = ["(function () {\n  'use strict';\n"]
    length = 0
    i = 0
    while length < size:
        body = (
            f"  function handler{i}(event) {{\n"
            f"    var el = document.querySelector('[data-item=\"{rnd.randrange(10**6)}\"]');\n"
            f"    if (el) {{ el.classList.toggle('active-{rnd.randrange(50)}'); }}\n"
            f"    return event.detail + {rnd.randrange(1000)};\n  }}\n"
            f"  window.addEventListener('custom-{i}', handler{i});\n"
        )
        out.append(body)
        length += len(body)
        i += 1
    out.append("})();\n")
    return "".join(out)


def make_sources() -> None:
    (SRC / "bench").mkdir(parents=True)
    (SRC / "bench" / "big.css").write_text(stylesheet(100_000, 1))
    shutil.copytree(ROOT / "project" / "shop" / "static" / "shop", SRC / "shop")
    import django

    admin_static = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin"
    shutil.copytree(admin_static, SRC / "admin")


def make_many(target: Path, count: int) -> None:
    """``count`` files in 50 folders: stylesheets, scripts and some binary images."""
    rnd = random.Random(7)
    for i in range(count):
        folder = target / f"pkg{i % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = i % 10
        size = rnd.randrange(1200, 6000)
        if kind < 5:
            (folder / f"style{i}.css").write_text(stylesheet(size, i))
        elif kind < 9:
            (folder / f"app{i}.js").write_text(script(size, i))
        else:
            (folder / f"img{i}.png").write_bytes(rnd.randbytes(size))


# -- in-process ---------------------------------------------------------------------
def environ(path: str, headers: dict[str, str]) -> dict[str, Any]:
    from wsgiref.util import FileWrapper

    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.file_wrapper": FileWrapper,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    env.update(headers)
    return env


def storages_for(middleware: list[str]) -> dict[str, Any]:
    """WhiteNoise starts with its own storage (its start-up asks it for URLs)."""
    from benchmarks.settings.static import STORAGE_BACKENDS

    storage = "whitenoise" if WHITENOISE in middleware else "ours"
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE_BACKENDS[storage]},
    }


def wsgi_handler(middleware: list[str]) -> Any:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware, STORAGES=storages_for(middleware)):
        return WSGIHandler()


class ConstantNotModified:
    """The floor: a middleware that answers 304 with no lookup at all."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        from django.http import HttpResponseNotModified

        response = HttpResponseNotModified()
        response["ETag"] = '"0123456789abcdef01234567"'
        response["Cache-Control"] = "public, max-age=31536000, immutable"
        response["Vary"] = "Accept-Encoding"
        return response


def call_wsgi(handler: Any, path: str, headers: dict[str, str]) -> tuple[str, dict, bytes]:
    seen: dict[str, Any] = {}

    def start_response(status, response_headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"] = status
        seen["headers"] = dict(response_headers)

    result = handler(environ(path, headers), start_response)
    body = b"".join(result)
    if hasattr(result, "close"):  # optional in WSGI: a list has none
        result.close()
    return seen["status"], seen["headers"], body


def run_wsgi(handler: Any, path: str, headers: dict[str, str]) -> float:
    def start_response(status, response_headers, exc_info=None):  # type: ignore[no-untyped-def]
        return None

    start = time.perf_counter()
    for _ in range(N):
        result = handler(environ(path, headers), start_response)
        for _chunk in result:
            pass
        if hasattr(result, "close"):
            result.close()
    return (time.perf_counter() - start) / N


def asgi_handler(middleware: list[str]) -> Any:
    from django.core.handlers.asgi import ASGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware, STORAGES=storages_for(middleware)):
        return ASGIHandler()


def run_asgi(handler: Any, loop: asyncio.AbstractEventLoop, path: str) -> float:
    headers = [(b"accept-encoding", b"gzip, deflate, br")]

    async def many() -> None:
        for _ in range(N_ASYNC):
            await asgi_request(handler, path, headers)

    start = time.perf_counter()
    loop.run_until_complete(many())
    return (time.perf_counter() - start) / N_ASYNC


# -- collectstatic -------------------------------------------------------------------
def collect(storage: str, src: Path, root: Path) -> float:
    from django.core.management import call_command
    from django.test import override_settings

    from benchmarks.settings.static import STORAGE_BACKENDS

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE_BACKENDS[storage]},
    }
    with override_settings(STATICFILES_DIRS=[str(src)], STATIC_ROOT=str(root), STORAGES=storages):
        start = time.perf_counter()
        call_command("collectstatic", "--noinput", verbosity=0)
        return time.perf_counter() - start


def prepare() -> str:
    """Sources written, Django set up, our storage's collectstatic run: the big file's URL."""
    import json

    make_sources()
    setup_django("benchmarks.settings.static")
    collect("ours", SRC, COLLECTED)
    return (
        "/static/"
        + json.loads((COLLECTED / "staticfiles.json").read_text())["paths"]["bench/big.css"]
    )


def cleanup() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
