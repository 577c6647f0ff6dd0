"""gunicorn -w2 + wrk on the demo product page, with and without PerformanceMiddleware.

    .venv/bin/python benchmarks/bench_http_perf_monitor.py [--quick]

Needs Debian's wrk. Both configurations run in the same script, alternating, each
repetition a bounded wrk run against a gunicorn started on 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT

from tests.helpers import demo_env, manage
from tests.services import free_port, wait_for_port

QUICK = "--quick" in sys.argv
DURATION = 3 if QUICK else 5
REPS = 3 if QUICK else 5
PATH = "/products/"


def wrk(port: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{DURATION}s", "--latency", f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / {"us": 1000, "ms": 1, "s": 0.001}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"wrk saw errors: {out}")
    return {"rps": rps, "p50": pct("50"), "p99": pct("99")}


def main() -> None:
    if not shutil.which("wrk"):
        print("wrk not installed (apt-get install wrk): skipped")
        return
    var = Path(tempfile.mkdtemp(prefix="perfsuite-bench-"))
    env = demo_env(PERFSUITE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="benchmarks.settings.http")
    for args in (
        ("migrate", "--noinput"),
        ("seed_demo", "--products", "500", "--users", "5", "--posts", "10"),
    ):
        result = manage(*args, "--verbosity", "0", env=env)
        assert result.returncode == 0, result.stderr
    for cached in (False, True):
        scenario(env, cached)
    shutil.rmtree(var, ignore_errors=True)


def scenario(env: dict[str, str], cached: bool) -> None:
    env = {**env, "PERFSUITE_BENCH_NOCACHE": "0" if cached else "1"}
    results: dict[str, list[dict[str, float]]] = {"bare": [], "PerformanceMiddleware": []}
    names = list(results)
    for rep in range(REPS):
        order = names[rep % 2 :] + names[: rep % 2]
        for name in order:
            port = free_port()
            stack = "bare" if name == "bare" else "monitor"
            proc = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "project.wsgi",
                ],
                cwd=ROOT,
                env={**env, "PERFSUITE_BENCH_STACK": stack},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for_port(port, 30)
                subprocess.run(
                    ["wrk", "-t1", "-c4", "-d1s", f"http://127.0.0.1:{port}{PATH}"],
                    capture_output=True,
                )
                results[name].append(wrk(port))
            finally:
                proc.terminate()
                proc.wait(30)
    how = "served from the response cache" if cached else "rendered from SQLite"
    print(f"## gunicorn -w2, wrk -t2 -c16 -d{DURATION}s on {PATH}: the 50-card page {how}\n")
    print("| configuration | req/s (median) | p50 ms | p99 ms | throughput ratio to bare |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        ratios = [r["rps"] / b["rps"] for r, b in zip(runs, results["bare"], strict=True)]
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | x{statistics.median(ratios):.3f} |")
    print()


if __name__ == "__main__":
    main()
