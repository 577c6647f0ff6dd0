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
        # virtual lists (virtual_*.py)
        "VIRTUAL_MAX_WINDOW": Option(
            500, positive_int, "Rows one virtual-list window request may ask for, at most."
        ),
        "VIRTUAL_COUNT_TTL": Option(
            5, positive_number, "Seconds a virtual list's QuerySet row count is cached."
        ),
        "VIRTUAL_INDEX_STRIDE": Option(
            256, positive_int, "Rows between two keys of a QuerySet list's sparse keyset index."
        ),
        "VIRTUAL_INDEX_TTL": Option(
            300, positive_number, "Seconds a sparse keyset index is kept before it is rebuilt."
        ),
        "VIRTUAL_TOKEN_MAX_AGE": Option(
            43200, positive_int, "Seconds a virtual list's signed token can fetch windows."
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
