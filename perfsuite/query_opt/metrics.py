"""query_opt's metrics and what it records into them (per route, bounded)."""

from __future__ import annotations

from perfsuite.core import metrics

QUERIES = metrics.histogram(
    "perfsuite_db_queries_per_request", "Database queries per request", ("route",)
)
QUERY_SECONDS = metrics.histogram(
    "perfsuite_db_query_seconds_per_request", "Time in database queries per request", ("route",)
)
FINDINGS = metrics.counter(
    "perfsuite_db_n_plus_one", "N+1 findings (one SQL shape repeated in a request)", ("route",)
)


def record_request(route: str, count: int, seconds: float) -> None:
    QUERIES.labels(route).observe(count)
    QUERY_SECONDS.labels(route).observe(seconds)


def record_finding(route: str) -> None:
    FINDINGS.labels(route).inc()


# -- connection pools (pool.py samples them; pool_panel.py shows them) ----------
#: figures of now, per process: the store sums them over live processes
POOL_GAUGES = {
    key: metrics.gauge(f"perfsuite_db_pool_{key}", doc, ("alias",))
    for key, doc in (
        ("size", "Connections the pool holds (in use and idle), per process"),
        ("idle_size", "Idle connections ready in the pool, per process"),
        ("waiting", "Clients waiting for a connection right now, per process"),
        ("min_size", "The pool's min_size, per process"),
        ("max_size", "The pool's max_size, per process"),
    )
}
#: totals since the pool opened, recorded as deltas: windows and dead workers add up
#: (figure key -> counter; the ``_ms`` figures are counted in seconds)
POOL_COUNTERS = {
    key: metrics.counter(f"perfsuite_db_pool_{name}", doc, ("alias",))
    for key, name, doc in (
        ("requests", "requests", "Connections handed out by the pool"),
        ("queued", "queued", "Connection requests that had to wait"),
        ("wait_ms", "wait_seconds", "Time clients waited for a connection"),
        ("errors", "errors", "Connection requests that failed (timeout, queue full)"),
        ("connections", "connections", "Connections the pool opened to the server"),
        ("connect_ms", "connect_seconds", "Time spent opening connections to the server"),
        ("connection_errors", "connection_errors", "Failed attempts to open a connection"),
        ("connections_lost", "connections_lost", "Connections found broken and discarded"),
    )
}


def record_pool_gauges(alias: str, figures: dict[str, int]) -> None:
    """Set this process's gauges of ``alias`` (keys of :data:`POOL_GAUGES` present)."""
    for key, gauge in POOL_GAUGES.items():
        if key in figures:
            gauge.labels(alias).set(figures[key])


def record_pool_deltas(alias: str, deltas: dict[str, int]) -> None:
    """Add what the pool of ``alias`` counted since the last sample."""
    for key, amount in deltas.items():
        counter = POOL_COUNTERS.get(key)
        if counter is not None and amount > 0:
            counter.labels(alias).inc(amount / 1000 if key.endswith("_ms") else amount)


# -- unused eager loads (eager.py tracks them; detection.py makes the findings) ---------
UNUSED_EAGER = metrics.counter(
    "perfsuite_db_unused_eager",
    "Unused eager loads (a select_related/prefetch_related never read in a request)",
    ("route",),
)


def record_unused_eager(route: str) -> None:
    UNUSED_EAGER.labels(route).inc()


# -- where findings come from, summed over every worker (the panel's "Where" table) ----
SITES = metrics.counter(
    "perfsuite_db_finding_sites",
    "Query findings by kind, route, caller line and relation (bounded by the code)",
    ("kind", "route", "caller", "relation"),
)


def record_site(kind: str, route: str, caller: str, relation: str) -> None:
    SITES.labels(kind, route, caller[:200], relation[:200]).inc()
