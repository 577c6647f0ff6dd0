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
