"""StaticFilesMiddleware vs WhiteNoise 6.12 in-process, on the same collected files.

    .venv/bin/python benchmarks/bench_static_opt.py [--quick]

Side by side in one run (see shared/BENCHMARKING.md), repetitions in rotating
order, medians and ratios to WhiteNoise:

1. in-process WSGI handler, a 100 KB stylesheet: brotli, gzip, identity, 304;
2. in-process ASGI handler, the same stylesheet in brotli;
3. bytes on the wire per file (Chrome's Accept-Encoding) against WhiteNoise's best.

Both middlewares serve the directory our storage collected (WhiteNoise picks up
the ``.br`` and ``.gz`` siblings). Start-up: ``bench_static_startup.py``; over HTTP:
``bench_static_http.py``.
"""

from __future__ import annotations

import asyncio
import warnings

from common import side_by_side, table
from static_common import (
    CASES,
    CHROME,
    COLLECTED,
    REPS,
    STACKS,
    asgi_handler,
    call_wsgi,
    cleanup,
    prepare,
    run_asgi,
    run_wsgi,
    wsgi_handler,
)


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
    floor = wsgi_handler(["static_common.ConstantNotModified"])
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


def main() -> None:
    big = prepare()
    try:
        in_process(big)
        wire_bytes()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
