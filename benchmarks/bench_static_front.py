"""The front door (``perfsuite_front``) against WhiteNoise for static files, in process.

    .venv/bin/python benchmarks/bench_static_front.py [--quick]

A 100 KB stylesheet in brotli and its 304 revalidation, WSGI and ASGI: WhiteNoise 6.12's
middleware, static_opt's middleware, static_opt at the front door (before Django's
handler) and, WSGI only, WhiteNoise's own WSGI wrapper (``WhiteNoise(application)``,
also before Django). Side by side in one run, repetitions in rotating order, medians
and paired ratios to WhiteNoise's middleware (shared/BENCHMARKING.md).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from common import side_by_side, table
from static_common import (
    CASES,
    COLLECTED,
    OURS,
    REPS,
    WHITENOISE,
    asgi_handler,
    call_wsgi,
    cleanup,
    prepare,
    run_asgi,
    run_wsgi,
    wsgi_handler,
)

BASE = "WhiteNoise 6.12 middleware"


def wsgi_apps() -> dict[str, Any]:
    from whitenoise import WhiteNoise

    from perfsuite.core.front import perfsuite_front

    wrapper = WhiteNoise(wsgi_handler([]), root=str(COLLECTED), prefix="static/")
    wrapper.max_age = 31536000
    return {
        BASE: wsgi_handler([WHITENOISE]),
        "static_opt middleware": wsgi_handler([OURS]),
        "static_opt front door": perfsuite_front(wsgi_handler([OURS])),
        "WhiteNoise WSGI wrapper": wrapper,
    }


def main() -> None:
    big = prepare()
    try:
        apps = wsgi_apps()
        brotli = CASES["brotli"]
        for name, app in apps.items():
            status, got, _ = call_wsgi(app, big, brotli)
            assert status.startswith("200") and got.get("Content-Encoding") == "br", (name, got)
            run_wsgi(app, big, brotli)
        results = side_by_side(
            {n: (lambda a=a: run_wsgi(a, big, brotli)) for n, a in apps.items()}, REPS
        )
        print(table("WSGI in-process, 100 KB CSS, brotli", results, BASE))
        revalidate = {}
        for name, app in apps.items():
            etag = call_wsgi(app, big, brotli)[1]["ETag"]
            headers = {**brotli, "HTTP_IF_NONE_MATCH": etag}
            assert call_wsgi(app, big, headers)[0].startswith("304"), name
            revalidate[name] = headers
            run_wsgi(app, big, headers)
        results = side_by_side(
            {n: (lambda a=a, h=revalidate[n]: run_wsgi(a, big, h)) for n, a in apps.items()},
            REPS,
        )
        print(table("WSGI in-process, 100 KB CSS, 304 revalidation", results, BASE))

        from perfsuite.core.front import perfsuite_front

        warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume")
        loop = asyncio.new_event_loop()
        ahandlers = {
            BASE: asgi_handler([WHITENOISE]),
            "static_opt middleware": asgi_handler([OURS]),
            "static_opt front door": perfsuite_front(asgi_handler([OURS])),
        }
        for handler in ahandlers.values():
            run_asgi(handler, loop, big)
        results = side_by_side(
            {n: (lambda h=h: run_asgi(h, loop, big)) for n, h in ahandlers.items()}, REPS
        )
        print(table("ASGI in-process, 100 KB CSS, brotli", results, BASE))
        loop.close()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
