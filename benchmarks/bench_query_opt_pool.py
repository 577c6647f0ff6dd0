"""One query per request, pooled vs unpooled, and what the "Connection pool" panel shows.

    .venv/bin/python benchmarks/bench_query_opt_pool.py [--quick]

A real PostgreSQL server (started here from the local binaries, tests/services.py,
on 127.0.0.1 with trust authentication). Requests go through Django's WSGI handler to
a view that runs ``SELECT 1`` on one alias: ``pooled`` (Django's psycopg pool,
min 1 max 4) or ``unpooled`` (a new connection per request, ``CONN_MAX_AGE = 0``).
Side by side in one run, repetitions in rotating order. Then the panel's own figures
for the pooled alias, next to what the benchmark saw: the connections it handed out
(one per pooled request: the two must be equal, else the script fails), the pool's
size and the waits.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from common import environ, side_by_side, table  # (puts the checkout on sys.path)

from tests.services import PostgresServer, free_port, postgres_bin_dir

QUICK = "--quick" in sys.argv
LOOPS = 40 if QUICK else 150
REPS = 5 if QUICK else 7


def main() -> int:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        print("PostgreSQL binaries not found (pg_ctl): skipped")
        return 0
    server = PostgresServer(bin_dir, free_port())
    server.start()
    try:
        os.environ["PERFSUITE_BENCH_PG_PORT"] = str(server.port)
        from common import setup_django

        setup_django("benchmarks.settings.pool")
        return run()
    finally:
        server.stop()


def run() -> int:
    from django.core.handlers.wsgi import WSGIHandler

    from perfsuite.core.metrics import registry
    from perfsuite.query_opt.pool import sampler
    from perfsuite.query_opt.pool_panel import PoolPanel

    handler = WSGIHandler()
    served = {"pooled": 0, "unpooled": 0}

    def request(alias: str) -> None:
        response = handler(environ(f"/{alias}/"), lambda status, headers: None)
        body = b"".join(response)
        response.close()  # request_finished: the connection goes back (or is closed)
        assert body == b"ok", body
        served[alias] += 1

    def timed(alias: str) -> float:
        start = time.perf_counter()
        for _ in range(LOOPS):
            request(alias)
        return (time.perf_counter() - start) / LOOPS

    registry.reset()  # the panel counts from here, like the benchmark
    for alias in served:  # warm up: the pool opens its connections, imports are done
        timed(alias)
    configs = {"pooled": lambda: timed("pooled"), "unpooled": lambda: timed("unpooled")}
    results = side_by_side(configs, REPS)
    print(table("One query per request (PostgreSQL on 127.0.0.1)", results, "pooled", "ms", 1e3))
    sampler.sample()  # what its thread does every FLUSH_INTERVAL, done now
    stats = PoolPanel().get_stats(registry.snapshot("all"))
    row = next(r for r in stats["aliases"] if r["alias"] == "pooled")
    saved = statistics.median(
        u - p for u, p in zip(results["unpooled"], results["pooled"], strict=True)
    )
    print("| figure | benchmark | pool panel |")
    print("|---|---|---|")
    print(f"| pooled requests / connections handed out | {served['pooled']} | {row['requests']} |")
    print(f"| ms saved per pooled request | {saved * 1e3:.2f} | - |")
    connect = row["connect_ms_mean"]
    print(
        f"| connections the pool opened, mean ms to open (cold, at start) | - | "
        f"{row['connections']}, {connect:.2f} |"
        if connect is not None
        else "| connections the pool opened | - | 0 |"
    )
    print(f"| pool size (connections open) | 1 thread asking | {row['size']} |")
    print(f"| wait for a connection, mean ms | - | {row['wait_ms_mean'] or 0:.3f} |")
    if row["requests"] != served["pooled"]:
        print("MISMATCH: the panel does not count what the benchmark did")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
