"""What the response cache records (per route, bounded label sets)."""

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
