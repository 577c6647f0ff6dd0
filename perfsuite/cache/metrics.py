"""The response cache's metrics and what it records into them (per route, bounded)."""

from __future__ import annotations

from perfsuite.core import metrics

REQUESTS = metrics.counter(
    "perfsuite_cache_requests", "Response cache lookups by result", ("route", "result")
)
NOT_STORED = metrics.counter(
    "perfsuite_cache_not_stored", "Responses not stored, by reason", ("route", "reason")
)
BYTES_SERVED = metrics.counter(
    "perfsuite_cache_bytes_served", "Body bytes served from the cache", ("route",)
)
ERRORS = metrics.counter("perfsuite_cache_backend_errors", "Cache backend failures")
SKIPPED = metrics.counter(
    "perfsuite_cache_backend_skipped", "Requests served uncached while the breaker was open"
)
INVALIDATION_FAILURES = metrics.counter(
    "perfsuite_cache_invalidation_failures", "Invalidations deferred: the backend was unreachable"
)

#: results that were answered from the cache
SERVED_FROM_CACHE = ("hit", "stale", "collapsed")


def record_lookup(route: str, result: str) -> None:
    """One request through the cache: ``hit``, ``stale``, ``collapsed``, ``miss``, ``bypass``."""
    REQUESTS.labels(route, result).inc()


def record_served(route: str, result: str, body_bytes: int) -> None:
    """A response served from the cache."""
    REQUESTS.labels(route, result).inc()
    BYTES_SERVED.labels(route).inc(body_bytes)


def record_not_stored(route: str, reason: str) -> None:
    NOT_STORED.labels(route, reason).inc()


def record_backend_failure(skipped: bool) -> None:
    """A backend call failed, or was skipped because the breaker is open."""
    (SKIPPED if skipped else ERRORS).inc()


def record_invalidation_deferred() -> None:
    INVALIDATION_FAILURES.inc()
