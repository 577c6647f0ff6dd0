"""``PERFSUITE`` keys of memo_components (documented in docs/memo_components.md)."""

from __future__ import annotations

from perfsuite.core.conf import Option, register_defaults
from perfsuite.core.validators import optional_str, positive_int, positive_number

register_defaults(
    {
        "COMPONENT_CACHE_ENTRIES": Option(
            10_000, positive_int, "Memoized renders kept per process, at most (the LRU)."
        ),
        "COMPONENT_CACHE_BYTES": Option(
            32 * 2**20, positive_int, "Bytes of memoized HTML kept per process, at most."
        ),
        "COMPONENT_CACHE_ALIAS": Option(
            None,
            optional_str,
            "A CACHES alias all processes share renders and invalidations in (None: this process).",
        ),
        "COMPONENT_CACHE_TTL": Option(
            3600, positive_int, "Seconds a render stays in the shared cache alias."
        ),
        "COMPONENT_SYNC_INTERVAL": Option(
            0.5,
            positive_number,
            "Seconds between a process's checks for invalidations made by other processes.",
        ),
        # lazy components (lazy.py, lazy_tokens.py)
        "LAZY_MAX_AGE": Option(
            86400, positive_int, "Seconds a lazy placeholder's signed props stay loadable."
        ),
        "LAZY_MAX_TOKEN_LENGTH": Option(
            3000, positive_int, "Characters a lazy placeholder's signed props may take, at most."
        ),
    }
)
