"""The three content codings: zstd, brotli, gzip (byte-exact, deterministic output).

``brotli`` and ``zstandard`` are optional imports (``pip install
"django-perfsuite[static]"``); without them only gzip is produced. Both libraries
release the GIL while compressing, so a thread pool compresses in parallel.

Two levels per coding: ``BUILD`` (collectstatic: smallest output, done once) and
``DYNAMIC`` (a file compressed on its first request: a few ms for 100 KB).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable

try:
    import brotli
except ImportError:  # pragma: no cover - exercised by check W604
    brotli = None
try:
    import zstandard
except ImportError:  # pragma: no cover
    zstandard = None  # type: ignore[assignment]

#: Coding name -> file-name suffix of its precompressed variant.
SUFFIXES: dict[str, str] = {"zstd": ".zst", "br": ".br", "gzip": ".gz"}
KNOWN = tuple(SUFFIXES)

BUILD = {"gzip": 9, "br": 11, "zstd": 19}
DYNAMIC = {"gzip": 6, "br": 5, "zstd": 9}


def available() -> tuple[str, ...]:
    """The codings this interpreter can produce."""
    found = ["gzip"]
    if brotli is not None:
        found.insert(0, "br")
    if zstandard is not None:
        found.insert(0, "zstd")
    return tuple(found)


def missing_libraries(codings: tuple[str, ...] | list[str]) -> list[str]:
    """PyPI packages needed for ``codings`` that are not installed."""
    out = []
    if "br" in codings and brotli is None:
        out.append("brotli")
    if "zstd" in codings and zstandard is None:
        out.append("zstandard")
    return out


def _gzip(data: bytes, level: int) -> bytes:
    buf = io.BytesIO()
    # mtime=0 and no file name: the output depends on the content only.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=level, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def _br(data: bytes, level: int) -> bytes:
    return brotli.compress(data, quality=level)


def _zstd(data: bytes, level: int) -> bytes:
    # One compressor per call: ZstdCompressor objects are not thread-safe.
    return zstandard.ZstdCompressor(level=level).compress(data)


_COMPRESSORS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gzip,
    "br": _br,
    "zstd": _zstd,
}


def compress(coding: str, data: bytes, level: int | None = None) -> bytes:
    """Compress ``data`` with ``coding`` at ``level`` (default: the build level)."""
    return _COMPRESSORS[coding](data, BUILD[coding] if level is None else level)


def decompress(coding: str, data: bytes) -> bytes:
    """The inverse of :func:`compress` (used to verify variants found on disk)."""
    if coding == "gzip":
        return zlib.decompress(data, wbits=31)
    if coding == "br":
        return brotli.decompress(data)
    if coding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    raise ValueError(f"unknown coding {coding!r}")


def worth_it(original: int, compressed: int, max_ratio: float) -> bool:
    """Keep a variant only when it is clearly smaller than the original."""
    return original > 0 and compressed < original * max_ratio
