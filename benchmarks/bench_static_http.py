"""static_opt vs WhiteNoise over HTTP: gunicorn -w2 + wrk, bounded runs (needs Debian's
wrk), side by side: WhiteNoise's middleware and its own WSGI wrapper, static_opt's
middleware and its front door (``perfsuite_front``, the demo's ``project.wsgi``), the
door without its timing headers (``SERVER_TIMING`` and ``RESPONSE_TIME_HEADER`` off:
what two more header lines cost under gunicorn) and, for the 304, the server's floor
(``benchmarks/settings/floor_wsgi.py``: a constant answer). Beside req/s, the server's
CPU time per request (its processes' user + system time over the run, divided by the
requests wrk counted): far less noisy than req/s on a shared machine, as wrk's own
share of the two cores does not enter it.

    .venv/bin/python benchmarks/bench_static_http.py [--quick]
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from common import ROOT
from static_common import (
    CASES,
    OURS,
    WHITENOISE,
    WRK_REPS,
    WRK_SECONDS,
    call_wsgi,
    cleanup,
    prepare,
    wsgi_handler,
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
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        return float(m.group(1)) / {"us": 1000, "ms": 1, "s": 0.001}[m.group(2)]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "requests": total}


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a server process and its workers so far."""
    import psutil

    parent = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])


def over_http(big: str) -> None:
    if not shutil.which("wrk"):
        print("wrk not installed (apt-get install wrk): HTTP benchmark skipped\n")
        return
    from tests.helpers import demo_env
    from tests.services import free_port, wait_for_port

    env = demo_env(DJANGO_SETTINGS_MODULE="benchmarks.settings.static")
    env.update({k: os.environ[k] for k in ("PERFSUITE_BENCH_SRC", "PERFSUITE_STATIC_ROOT")})
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    #: configuration -> (stack in PERFSUITE_BENCH_STATIC, app, front door on); a
    #: "uvicorn" configuration runs under one uvicorn process (its WSGI interface for
    #: WhiteNoise's wrapper; uvicorn --workers leaves Nagle's algorithm on, about 40 ms
    #: per keep-alive response with a body: uvicorn issue 3149), the others under
    #: gunicorn -w 2
    configs = {
        "WhiteNoise 6.12 middleware": ("whitenoise", "project.wsgi", "0"),
        "WhiteNoise WSGI wrapper": ("", "benchmarks.settings.whitenoise_wsgi", "0"),
        "static_opt middleware": ("ours", "project.wsgi", "0"),
        "static_opt front door": ("ours", "project.wsgi", "1"),
        "static_opt front door, timing headers off": ("ours", "project.wsgi", "1"),
        "floor: a constant 304 (gunicorn's own cost)": ("", "benchmarks.settings.floor_wsgi", "0"),
        "uvicorn: WhiteNoise 6.12 middleware": ("whitenoise", "project.asgi:application", "0"),
        "uvicorn: WhiteNoise WSGI wrapper": (
            "",
            "benchmarks.settings.whitenoise_wsgi:application",
            "0",
        ),
        "uvicorn: static_opt front door": ("ours", "project.asgi:application", "1"),
    }
    etags: dict[str, str] = {}
    for name in configs:
        if name.startswith("floor"):
            etags[name] = '"6b0deee8-186de"'  # not looked at
            continue
        kind = "whitenoise" if name.startswith("WhiteNoise") else "ours"
        handler = wsgi_handler([WHITENOISE if kind == "whitenoise" else OURS])
        etags[name] = call_wsgi(handler, big, CASES["brotli"])[1]["ETag"]
    cases = {
        "brotli": lambda name: ["Accept-Encoding: gzip, deflate, br"],
        "304": lambda name: ["Accept-Encoding: gzip, deflate, br", f"If-None-Match: {etags[name]}"],
    }
    for case, headers_for in cases.items():
        results: dict[str, list[dict[str, float]]] = {
            name: [] for name in configs if case == "304" or not name.startswith("floor")
        }
        names = list(results)
        for rep in range(WRK_REPS):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                port = free_port()
                stack, module, front = configs[name]
                if name.startswith("uvicorn"):
                    interface = "wsgi" if "WSGI" in name else "asgi3"
                    command = [
                        *(uvicorn, "--host", "127.0.0.1", "--port", str(port)),
                        *("--interface", interface, "--log-level", "warning", module),
                    ]
                else:
                    command = [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", module]
                proc = subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env={
                        **env,
                        "PERFSUITE_BENCH_STATIC": stack,
                        "PERFSUITE_FRONT": front,
                        "PERFSUITE_BENCH_TIMING": "0" if "timing headers off" in name else "1",
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    wait_for_port(port, 30)
                    subprocess.run(
                        ["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{port}{big}"],
                        capture_output=True,
                    )
                    before = server_cpu(proc.pid)
                    run = wrk(port, big, headers_for(name))
                    run["cpu"] = (server_cpu(proc.pid) - before) / run["requests"] * 1e6
                    results[name].append(run)
                finally:
                    proc.terminate()
                    proc.wait(30)
        print(
            f"## gunicorn -w2 / one uvicorn process, wrk -t2 -c16 -d{WRK_SECONDS}s, "
            f"100 KB CSS, {case}\n"
        )
        print(
            "| configuration | req/s (median) | p50 ms | p99 ms | throughput ratio "
            "| server CPU µs/request |"
        )
        print("|---|---|---|---|---|---|")
        base = results["WhiteNoise 6.12 middleware"]
        for name, runs in results.items():
            ratio = statistics.median(r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True))
            print(
                f"| {name} | {statistics.median(r['rps'] for r in runs):,.0f} "
                f"| {statistics.median(r['p50'] for r in runs):.2f} "
                f"| {statistics.median(r['p99'] for r in runs):.2f} | x{ratio:.3f} "
                f"| {statistics.median(r['cpu'] for r in runs):.1f} |"
            )
        print()


def main() -> None:
    big = prepare()
    try:
        over_http(big)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
