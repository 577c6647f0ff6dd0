"""StaticFilesMiddleware vs WhiteNoise 6.12 on the same collected files.

    .venv/bin/python benchmarks/bench_static_opt.py [--quick] [--no-http] [--no-startup]

Side by side in one run (see shared/BENCHMARKING.md), repetitions in rotating
order, medians and ratios to WhiteNoise:

1. in-process WSGI handler, a 100 KB stylesheet: brotli, gzip, identity, 304;
2. in-process ASGI handler, the same stylesheet in brotli;
3. bytes on the wire per file (Chrome's Accept-Encoding) against WhiteNoise's best;
4. collectstatic time (plain manifest / WhiteNoise / ours) and middleware start-up
   time with 5,000 collected files (1,000 with ``--quick``);
5. gunicorn -w2 + wrk, bounded runs (needs Debian's wrk).

Both middlewares serve the directory our storage collected (WhiteNoise picks up
the ``.br`` and ``.gz`` siblings); for start-up each serves its own storage's output.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from common import ROOT, asgi_request, setup_django, side_by_side, table

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
    from benchmarks.bench_static_settings import STORAGE_BACKENDS

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


def in_process(big: str) -> None:
    handlers = {name: wsgi_handler(stack) for name, stack in STACKS.items()}
    for case, headers in CASES.items():
        for name, handler in handlers.items():
            status, got, _body = call_wsgi(handler, big, headers)
            assert status.startswith("200"), (name, case, status)
            expected = {"brotli": "br", "gzip": "gzip"}.get(case)
            assert got.get("Content-Encoding") == expected, (name, case, got)
            run_wsgi(handler, big, headers)  # warm-up
        results = side_by_side(
            {
                name: (lambda h=handler, hd=headers: run_wsgi(h, big, hd))
                for name, handler in handlers.items()
            },
            REPS,
        )
        print(table(f"WSGI in-process, 100 KB CSS, {case}", results, "WhiteNoise 6.12"))
    # 304: each revalidates with its own ETag for the brotli variant.
    revalidate = {}
    for name, handler in handlers.items():
        _status, got, _body = call_wsgi(handler, big, CASES["brotli"])
        headers = {**CASES["brotli"], "HTTP_IF_NONE_MATCH": got["ETag"]}
        status, _got, _body = call_wsgi(handler, big, headers)
        assert status.startswith("304"), (name, status)
        revalidate[name] = headers
        run_wsgi(handler, big, headers)
    floor = wsgi_handler(["__main__.ConstantNotModified"])
    run_wsgi(floor, big, {})
    configs = {
        name: (lambda h=handler, hd=revalidate[name]: run_wsgi(h, big, hd))
        for name, handler in handlers.items()
    }
    configs["floor: constant 304, no lookup"] = lambda: run_wsgi(floor, big, {})
    results = side_by_side(configs, REPS)
    print(table("WSGI in-process, 100 KB CSS, 304 revalidation", results, "WhiteNoise 6.12"))

    # WhiteNoise under ASGI: a sync middleware (thread hop) and Django reading its
    # FileResponse whole through sync_to_async, which Django warns about.
    warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume")
    loop = asyncio.new_event_loop()
    ahandlers = {name: asgi_handler(stack) for name, stack in STACKS.items()}
    for handler in ahandlers.values():
        run_asgi(handler, loop, big)
    results = side_by_side(
        {name: (lambda h=h: run_asgi(h, loop, big)) for name, h in ahandlers.items()}, REPS
    )
    print(table("ASGI in-process, 100 KB CSS, brotli", results, "WhiteNoise 6.12"))
    loop.close()


def wire_bytes() -> None:
    """Content-Length per compressible file under Chrome's Accept-Encoding."""
    import json

    handlers = {name: wsgi_handler(stack) for name, stack in STACKS.items()}
    paths = json.loads((COLLECTED / "staticfiles.json").read_text())["paths"]
    rows = []
    for hashed in sorted(paths.values()):
        if not hashed.endswith((".css", ".js", ".svg", ".json", ".txt", ".map")):
            continue
        sizes = {}
        for name, handler in handlers.items():
            _status, got, body = call_wsgi(
                handler, "/static/" + hashed, {"HTTP_ACCEPT_ENCODING": CHROME}
            )
            sizes[name] = (len(body), got.get("Content-Encoding", "identity"))
        rows.append((hashed, (COLLECTED / hashed).stat().st_size, sizes))
    worse = [r for r in rows if r[2]["static_opt"][0] > r[2]["WhiteNoise 6.12"][0]]
    print("## Bytes on the wire per file, Accept-Encoding: " + CHROME + "\n")
    print("| file | original | WhiteNoise 6.12 | static_opt | ratio |")
    print("|---|---|---|---|---|")
    shown = sorted(rows, key=lambda r: -r[1])[:8]
    for hashed, original, sizes in shown:
        wn, ours = sizes["WhiteNoise 6.12"], sizes["static_opt"]
        print(
            f"| {hashed} | {original:,} | {wn[0]:,} ({wn[1]}) | {ours[0]:,} ({ours[1]}) "
            f"| x{ours[0] / wn[0]:.3f} |"
        )
    total_wn = sum(r[2]["WhiteNoise 6.12"][0] for r in rows)
    total_ours = sum(r[2]["static_opt"][0] for r in rows)
    print(
        f"| all {len(rows)} text files | {sum(r[1] for r in rows):,} | {total_wn:,} "
        f"| {total_ours:,} | x{total_ours / total_wn:.3f} |\n"
    )
    print(f"files where static_opt sends more bytes than WhiteNoise: {len(worse)}\n")


# -- collectstatic and start-up --------------------------------------------------------
def collect(storage: str, src: Path, root: Path) -> float:
    from django.core.management import call_command
    from django.test import override_settings

    from benchmarks.bench_static_settings import STORAGE_BACKENDS

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE_BACKENDS[storage]},
    }
    with override_settings(STATICFILES_DIRS=[str(src)], STATIC_ROOT=str(root), STORAGES=storages):
        start = time.perf_counter()
        call_command("collectstatic", "--noinput", verbosity=0)
        return time.perf_counter() - start


def startup(middleware: str, storage: str, root: Path) -> float:
    from django.test import override_settings
    from django.utils.module_loading import import_string

    from benchmarks.bench_static_settings import STORAGE_BACKENDS

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE_BACKENDS[storage]},
    }
    cls = import_string(middleware)
    with override_settings(STATIC_ROOT=str(root), STORAGES=storages):
        start = time.perf_counter()
        instance = cls(lambda request: None)
        elapsed = time.perf_counter() - start
    del instance
    return elapsed


def many_files() -> None:
    src = WORK / "many-src"
    make_many(src, MANY_FILES)
    roots = {name: WORK / f"many-{name}" for name in ("plain", "whitenoise", "ours")}
    times = {}
    for name in ("plain", "whitenoise", "ours"):
        times[name] = collect(name, src, roots[name])
    plain = times["plain"]
    print(f"## collectstatic, {MANY_FILES:,} source files (one run each)\n")
    print("| storage | total s | compression s (total - plain manifest) | ratio to WhiteNoise |")
    print("|---|---|---|---|")
    for label, name in (
        ("ManifestStaticFilesStorage (no compression)", "plain"),
        ("WhiteNoise 6.12 (br + gzip)", "whitenoise"),
        ("static_opt (zstd + br + gzip)", "ours"),
    ):
        extra = times[name] - plain
        ratio = extra / (times["whitenoise"] - plain) if name != "plain" else 0
        ratio_text = f"x{ratio:.2f}" if name != "plain" else "-"
        print(f"| {label} | {times[name]:.2f} | {max(extra, 0):.2f} | {ratio_text} |")
    print()
    configs = {
        "WhiteNoise 6.12": lambda: startup(WHITENOISE, "whitenoise", roots["whitenoise"]),
        "static_opt": lambda: startup(OURS, "ours", roots["ours"]),
    }
    for fn in configs.values():
        fn()
    results = side_by_side(configs, REPS)
    print(
        table(
            f"Middleware start-up, {MANY_FILES:,} collected files",
            results,
            "WhiteNoise 6.12",
            unit="ms",
            scale=1e3,
        )
    )


# -- over HTTP ----------------------------------------------------------------------
def wrk(port: int, path: str, headers: list[str]) -> dict[str, float]:
    args = ["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(
        [*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        return float(m.group(1)) / {"us": 1000, "ms": 1, "s": 0.001}[m.group(2)]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99")}


def over_http(big: str) -> None:
    if not shutil.which("wrk"):
        print("wrk not installed (apt-get install wrk): HTTP benchmark skipped\n")
        return
    from tests.helpers import demo_env
    from tests.services import free_port, wait_for_port

    env = demo_env(DJANGO_SETTINGS_MODULE="benchmarks.bench_static_settings")
    env.update({k: os.environ[k] for k in ("PERFSUITE_BENCH_SRC", "PERFSUITE_STATIC_ROOT")})
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    etags: dict[str, str] = {}
    for name, stack in (("WhiteNoise 6.12", "whitenoise"), ("static_opt", "ours")):
        handler = wsgi_handler([WHITENOISE if stack == "whitenoise" else OURS])
        etags[name] = call_wsgi(handler, big, CASES["brotli"])[1]["ETag"]
    cases = {
        "brotli": lambda name: ["Accept-Encoding: gzip, deflate, br"],
        "304": lambda name: ["Accept-Encoding: gzip, deflate, br", f"If-None-Match: {etags[name]}"],
    }
    for case, headers_for in cases.items():
        results: dict[str, list[dict[str, float]]] = {"WhiteNoise 6.12": [], "static_opt": []}
        names = list(results)
        for rep in range(WRK_REPS):
            for name in names[rep % 2 :] + names[: rep % 2]:
                port = free_port()
                stack = "whitenoise" if name.startswith("WhiteNoise") else "ours"
                proc = subprocess.Popen(
                    [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "project.wsgi"],
                    cwd=ROOT,
                    env={**env, "PERFSUITE_BENCH_STATIC": stack},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    wait_for_port(port, 30)
                    subprocess.run(
                        ["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{port}{big}"],
                        capture_output=True,
                    )
                    results[name].append(wrk(port, big, headers_for(name)))
                finally:
                    proc.terminate()
                    proc.wait(30)
        print(f"## gunicorn -w2, wrk -t2 -c16 -d{WRK_SECONDS}s, 100 KB CSS, {case}\n")
        print("| configuration | req/s (median) | p50 ms | p99 ms | throughput ratio |")
        print("|---|---|---|---|---|")
        base = results["WhiteNoise 6.12"]
        for name, runs in results.items():
            ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True))
            print(
                f"| {name} | {statistics.median(r['rps'] for r in runs):,.0f} "
                f"| {statistics.median(r['p50'] for r in runs):.2f} "
                f"| {statistics.median(r['p99'] for r in runs):.2f} | x{ratio:.3f} |"
            )
        print()


def main() -> None:
    make_sources()
    setup_django("benchmarks.bench_static_settings")
    import json

    collect("ours", SRC, COLLECTED)
    big = (
        "/static/"
        + json.loads((COLLECTED / "staticfiles.json").read_text())["paths"]["bench/big.css"]
    )
    try:
        in_process(big)
        wire_bytes()
        if "--no-startup" not in sys.argv:
            many_files()
        if "--no-http" not in sys.argv:
            over_http(big)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
