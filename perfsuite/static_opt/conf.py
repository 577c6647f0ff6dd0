"""``PERFSUITE`` keys of static_opt (documented in docs/static_opt.md)."""

from __future__ import annotations

from typing import Any

from perfsuite.core.conf import (
    Option,
    perf_settings,
    positive_int,
    register_defaults,
)

from .engine.assets import ServeOptions
from .engine.compress import KNOWN


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be an integer >= 0"
    return None


def _ratio(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        return "must be a number in (0, 1]"
    return None


def _encodings(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or any(v not in KNOWN for v in value):
        return "must be a list drawn from " + ", ".join(repr(k) for k in KNOWN)
    return None


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else positive_int(value)


register_defaults(
    {
        "STATIC_MAX_AGE": Option(60, _non_negative_int, "max-age (s) of names without a hash."),
        "STATIC_IMMUTABLE_MAX_AGE": Option(
            31536000, _non_negative_int, "max-age (s) of content-hashed names (immutable)."
        ),
        "STATIC_ENCODINGS": Option(KNOWN, _encodings, "Content codings produced and served."),
        "STATIC_COMPRESS_MIN_SIZE": Option(
            1024, _non_negative_int, "Smallest file (bytes) worth compressing."
        ),
        "STATIC_COMPRESS_MAX_RATIO": Option(
            0.95, _ratio, "Keep a variant only below this fraction of the original."
        ),
        "STATIC_COMPRESS_WORKERS": Option(
            None, _optional_positive_int, "Compression threads (None: one per CPU)."
        ),
        "STATIC_DYNAMIC_COMPRESSION": Option(
            True, _bool, "Compress in memory, once, files that have no precompressed variant."
        ),
        "STATIC_MEMORY_FILE_MAX": Option(
            256 * 1024, _non_negative_int, "Largest representation (bytes) served from memory."
        ),
        "STATIC_MEMORY_TOTAL": Option(
            32 * 1024 * 1024, _non_negative_int, "Memory budget (bytes) for file bodies."
        ),
        "STATIC_CHUNK_SIZE": Option(64 * 1024, positive_int, "Bytes per chunk when streaming."),
        "STATIC_ALLOW_ALL_ORIGINS": Option(True, _bool, "Send Access-Control-Allow-Origin: *."),
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
