"""``PERFSUITE`` keys of static_opt (documented in docs/static_opt.md)."""

from __future__ import annotations

from typing import Any

from perfsuite.core.conf import Option, perf_settings, register_defaults
from perfsuite.core.validators import (
    boolean,
    non_negative_int,
    optional,
    positive_int,
    ratio,
    subset_of,
)

from .engine.assets import ServeOptions
from .engine.compress import KNOWN

register_defaults(
    {
        "STATIC_MAX_AGE": Option(60, non_negative_int, "max-age (s) of names without a hash."),
        "STATIC_IMMUTABLE_MAX_AGE": Option(
            31536000, non_negative_int, "max-age (s) of content-hashed names (immutable)."
        ),
        "STATIC_ENCODINGS": Option(KNOWN, subset_of(KNOWN), "Content codings produced and served."),
        "STATIC_COMPRESS_MIN_SIZE": Option(
            1024, non_negative_int, "Smallest file (bytes) worth compressing."
        ),
        "STATIC_COMPRESS_MAX_RATIO": Option(
            0.95, ratio, "Keep a variant only below this fraction of the original."
        ),
        "STATIC_COMPRESS_WORKERS": Option(
            None, optional(positive_int), "Compression threads (None: one per CPU)."
        ),
        "STATIC_DYNAMIC_COMPRESSION": Option(
            True, boolean, "Compress in memory, once, files that have no precompressed variant."
        ),
        "STATIC_MEMORY_FILE_MAX": Option(
            256 * 1024, non_negative_int, "Largest representation (bytes) served from memory."
        ),
        "STATIC_MEMORY_TOTAL": Option(
            32 * 1024 * 1024, non_negative_int, "Memory budget (bytes) for file bodies."
        ),
        "STATIC_CHUNK_SIZE": Option(64 * 1024, positive_int, "Bytes per chunk when streaming."),
        "STATIC_ALLOW_ALL_ORIGINS": Option(True, boolean, "Send Access-Control-Allow-Origin: *."),
    }
)


def serve_options(**overrides: Any) -> ServeOptions:
    """A :class:`ServeOptions` from the current ``PERFSUITE`` settings."""
    s = perf_settings.as_dict()
    values: dict[str, Any] = {
        "max_age": s["STATIC_MAX_AGE"],
        "immutable_max_age": s["STATIC_IMMUTABLE_MAX_AGE"],
        "encodings": tuple(s["STATIC_ENCODINGS"]),
        "min_size": s["STATIC_COMPRESS_MIN_SIZE"],
        "max_ratio": float(s["STATIC_COMPRESS_MAX_RATIO"]),
        "memory_file_max": s["STATIC_MEMORY_FILE_MAX"],
        "memory_total": s["STATIC_MEMORY_TOTAL"],
        "chunk_size": s["STATIC_CHUNK_SIZE"],
        "allow_all_origins": s["STATIC_ALLOW_ALL_ORIGINS"],
        "dynamic_compression": s["STATIC_DYNAMIC_COMPRESSION"],
    }
    values.update(overrides)
    return ServeOptions(**values)


def compress_workers() -> int | None:
    return perf_settings.STATIC_COMPRESS_WORKERS
