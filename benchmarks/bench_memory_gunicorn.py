"""Total memory of 4 preloaded gunicorn workers with and without ``gc.freeze()``.

    .venv/bin/python benchmarks/bench_memory_gunicorn.py [--quick]

The demo site (SQLite, seeded small) under ``gunicorn -c python:perfsuite.memory.gunicorn
--preload -w 4``, ``MEMORY_GC_FREEZE`` on and off, started in rotating order; after
the same requests (every worker serving its share of the demo's pages, then one full
collection in each worker, as a long-running worker's collector runs) it sums the
workers' USS (memory only that process holds: what copy-on-write copied) and PSS
(shared pages divided among their sharers), psutil ``memory_full_info``. Medians.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time

import psutil
from common import ROOT

sys.path.insert(0, str(ROOT))
from tests.helpers import VENV_BIN, manage, seeded_demo
from tests.services import free_port, wait_for_port

QUICK = "--quick" in sys.argv
REPS = 3 if QUICK else 5
REQUESTS = 400 if QUICK else 1200
PAGES = ["/", "/products/", "/posts/", "/users/", "/items/", "/products/?page=2"]
MB = 1024 * 1024


def measure(env: dict[str, str], freeze: bool) -> dict[str, float]:
    port = free_port()
    run_env = {**env, "BENCH_GC_FREEZE": "1" if freeze else "0"}
    command = [
        *(str(VENV_BIN / "gunicorn"), "-c", "python:perfsuite.memory.gunicorn", "--preload"),
        *("-w", "4", "-b", f"127.0.0.1:{port}", "project.wsgi"),
    ]
    master = subprocess.Popen(
        command, cwd=ROOT, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=60)
        for i in range(REQUESTS):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", PAGES[i % len(PAGES)])
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            conn.close()
        # a full collection in every worker, as a long-running worker's collector does
        collected: set[int] = set()
        deadline = time.monotonic() + 60
        while len(collected) < 4 and time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/bench/collect/")
            collected.add(json.loads(conn.getresponse().read())["pid"])
            conn.close()
        time.sleep(1)
        workers = psutil.Process(master.pid).children()
        assert len(workers) == 4, workers
        infos = [w.memory_full_info() for w in workers]
        return {
            "uss": sum(i.uss for i in infos) / MB,
            "pss": sum(i.pss for i in infos) / MB,
            "rss": sum(i.rss for i in infos) / MB,
        }
    finally:
        master.terminate()
        master.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as var:
        env = seeded_demo(var, DJANGO_SETTINGS_MODULE="benchmarks.settings.gunicorn_memory")
        result = manage("check", env=env)
        assert result.returncode == 0, result.stderr
        runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
        for rep in range(REPS):
            for freeze in (False, True) if rep % 2 == 0 else (True, False):
                runs[freeze].append(measure(env, freeze))
    print(f"## 4 preloaded gunicorn workers after {REQUESTS} requests ({REPS} starts each)\n")
    print("| configuration | workers' USS MB | workers' PSS MB | workers' RSS MB |")
    print("|---|---|---|---|")
    for freeze, label in ((False, "without gc.freeze()"), (True, "gc.freeze() after preload")):
        cells = [statistics.median(r[k] for r in runs[freeze]) for k in ("uss", "pss", "rss")]
        print(f"| {label} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    uss = [statistics.median(r["uss"] for r in runs[f]) for f in (False, True)]
    print(f"\nUSS with gc.freeze() / without: x{uss[1] / uss[0]:.2f}\n")


if __name__ == "__main__":
    main()
