"""Cost of one recording: perfsuite metrics vs prometheus_client, side by side.

    .venv/bin/python benchmarks/bench_metrics.py [--quick]

Local store and Redis store (buffered: the flusher thread sends to a real
redis-server on 127.0.0.1 while we record). Then the cost of one flush of 1,000
histogram series to that Redis.
"""

from __future__ import annotations

import sys
import tempfile
import time

from common import setup_django, side_by_side, table

setup_django()

import prometheus_client  # noqa: E402
from django.test import override_settings  # noqa: E402

from perfsuite.core.metrics import Registry  # noqa: E402
from perfsuite.core.sketch import Mapping  # noqa: E402
from perfsuite.core.stores import LocalStore  # noqa: E402
from perfsuite.core.stores.redis import RedisStore  # noqa: E402
from tests.services import RedisServer, redis_binary  # noqa: E402

QUICK = "--quick" in sys.argv
N = 50_000 if QUICK else 200_000
REPS = 5 if QUICK else 7
#: journaled runs: within one journal region (2 MiB, 174,762 records) per flush
J = 100_000


def per_op(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(N)
    return (time.perf_counter() - start) / N


def main() -> None:
    prom = prometheus_client.CollectorRegistry()
    p_counter = prometheus_client.Counter("c", "c", ["route"], registry=prom)
    p_hist = prometheus_client.Histogram("h", "h", ["route"], registry=prom)
    p_counter_child = p_counter.labels("shop")
    p_hist_child = p_hist.labels("shop")

    local = Registry(store=LocalStore(Mapping(0.01)))
    l_counter = local.counter("c", "", ("route",))
    l_hist = local.histogram("h", "", ("route",))

    server = None
    configs_redis = {}
    configs_journal = {}
    binary = redis_binary()
    if binary:
        server = RedisServer(binary)
        server.start()
        with override_settings(PERFSUITE={"FLUSH_INTERVAL": 0.2}):
            remote = Registry(store=RedisStore(Mapping(0.01), server.url, prefix="bench"))
        r_counter = remote.counter("c", "", ("route",))
        r_hist = remote.histogram("h", "", ("route",))

        def r_inc(n: int) -> None:
            child = r_counter.labels("shop")
            for _ in range(n):
                child.inc()

        def r_obs(n: int) -> None:
            child = r_hist.labels("shop")
            for i in range(n):
                child.observe(0.001 + (i & 1023) * 1e-5)

        # The same with the crash journal (what the global registry does on Redis):
        # flushed before each timed run, so a run's records fit one journal region.
        journal_dir = tempfile.mkdtemp(prefix="perfsuite-bench-spool-")
        journaled = Registry(
            store=RedisStore(Mapping(0.01), server.url, prefix="benchj"),
            autoflush=False,
            spool_dir=journal_dir,
        )
        j_counter = journaled.counter("c", "", ("route",)).labels("shop")
        j_hist = journaled.histogram("h", "", ("route",)).labels("shop")

        def j_inc(n: int) -> None:
            for _ in range(n):
                j_counter.inc()

        def j_obs(n: int) -> None:
            for i in range(n):
                j_hist.observe(0.001 + (i & 1023) * 1e-5)

        def journaled_op(fn) -> float:  # type: ignore[no-untyped-def]
            journaled.flush()
            start = time.perf_counter()
            fn(J)
            return (time.perf_counter() - start) / J

        configs_redis = {
            "perfsuite redis: counter inc": r_inc,
            "perfsuite redis: histogram observe": r_obs,
        }
        configs_journal = {
            "perfsuite redis + journal: counter inc": lambda: journaled_op(j_inc),
            "perfsuite redis + journal: histogram observe": lambda: journaled_op(j_obs),
        }

    def p_inc(n: int) -> None:
        child = p_counter_child
        for _ in range(n):
            child.inc()

    def p_obs(n: int) -> None:
        child = p_hist_child
        for i in range(n):
            child.observe(0.001 + (i & 1023) * 1e-5)

    def p_labels_obs(n: int) -> None:
        for i in range(n):
            p_hist.labels("shop").observe(0.001 + (i & 1023) * 1e-5)

    def l_inc(n: int) -> None:
        child = l_counter.labels("shop")
        for _ in range(n):
            child.inc()

    def l_obs(n: int) -> None:
        child = l_hist.labels("shop")
        for i in range(n):
            child.observe(0.001 + (i & 1023) * 1e-5)

    def l_labels_obs(n: int) -> None:
        for i in range(n):
            l_hist.labels("shop").observe(0.001 + (i & 1023) * 1e-5)

    def empty(n: int) -> None:
        for _ in range(n):
            pass

    counters = {
        "prometheus_client Counter.inc": lambda: per_op(p_inc),
        "perfsuite local: counter inc": lambda: per_op(l_inc),
    }
    hists = {
        "prometheus_client Histogram.observe": lambda: per_op(p_obs),
        "perfsuite local: histogram observe": lambda: per_op(l_obs),
        "prometheus_client labels().observe": lambda: per_op(p_labels_obs),
        "perfsuite local: labels().observe": lambda: per_op(l_labels_obs),
    }
    for name, fn in configs_redis.items():
        (counters if "counter" in name else hists)[name] = lambda fn=fn: per_op(fn)
    for name, timed in configs_journal.items():
        (counters if "counter" in name else hists)[name] = timed
    loop = side_by_side({"empty loop": lambda: per_op(empty)}, repetitions=3)
    print(f"(loop overhead per op, included below: {sorted(loop['empty loop'])[1] * 1e9:.0f} ns)\n")
    print(table("Counter increment", side_by_side(counters, REPS), "prometheus_client Counter.inc"))
    print(
        table(
            "Histogram observation",
            side_by_side(hists, REPS),
            "prometheus_client Histogram.observe",
        )
    )

    if server is not None:
        flush_times = []
        for rep in range(REPS):
            reg = Registry(
                store=RedisStore(Mapping(0.01), server.url, prefix=f"flush{rep}"), autoflush=False
            )
            hist = reg.histogram("route_latency", "", ("route",))
            for s in range(1000):
                child = hist.labels(f"route-{s}")
                for i in range(20):
                    child.observe(0.001 * (1 + i + s % 7))
            start = time.perf_counter()
            assert reg.flush()
            flush_times.append(time.perf_counter() - start)
        flush_times.sort()
        print("## Flush of 1,000 histogram series (20 observations each) to a local Redis\n")
        median = flush_times[len(flush_times) // 2] * 1e3
        print(f"median {median:.1f} ms, min {flush_times[0] * 1e3:.1f} ms")
        print("(one Lua call; buckets written to the totals, minute and hour hashes)\n")
        remote.close()
        journaled.close()
        server.cleanup()
    else:
        print("redis-server not installed: Redis rows skipped (apt-get install redis-server)")


if __name__ == "__main__":
    main()
