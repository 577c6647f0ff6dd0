"""What the index holds: an :class:`Asset` per URL name, with its :class:`Variant` s.

A variant is one representation of a file (identity, or one content coding). Its
ETag is a hash of its own bytes, so every encoded variant has its own validator
and every replica serving the same files computes the same one. Response headers
are built once per variant, as a case-insensitive store ``{lower: (Name, value)}``
ready to copy into a response.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from .compress import KNOWN
from .conditional import http_date
from .mediatypes import content_type, is_compressible, media_type

Store = dict[str, tuple[str, str]]

# Vite/webpack-style content hashes: 8+ hex digits between "." or "-" and the
# extension's dot, with at least one digit and one letter (so "app.20240101.js"
# or a plain word are not mistaken for a hash). Django's manifest names (12 hex)
# match too.
_HASHED = re.compile(r"[.\-]([0-9a-f]{8,64})\.")
_HASH_BYTES = 12


@dataclass(frozen=True)
class ServeOptions:
    """How files are served; the Django skin fills it from ``PERFSUITE``."""

    max_age: int = 60
    immutable_max_age: int = 31536000
    encodings: tuple[str, ...] = KNOWN
    min_size: int = 1024
    max_ratio: float = 0.95
    memory_file_max: int = 256 * 1024
    memory_total: int = 32 * 1024 * 1024
    chunk_size: int = 64 * 1024
    allow_all_origins: bool = True
    etags: bool = True
    dynamic_compression: bool = True
    charset: str = "utf-8"


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=_HASH_BYTES).hexdigest() + '"'


def new_hasher() -> Any:
    return hashlib.blake2b(digest_size=_HASH_BYTES)


def looks_hashed(name: str) -> bool:
    """Does the file name carry a content hash (Django manifest, Vite, webpack)?"""
    base = posixpath.basename(name)
    for m in _HASHED.finditer(base):
        digest = m.group(1)
        if not digest.isdigit() and not digest.isalpha():
            return True
    return False


def is_canonical(name: str) -> bool:
    """A relative POSIX path with no empty, ``.`` or ``..`` segment, backslash or NUL."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


class Variant:
    """One representation of an asset: identity, or ``br``/``gzip``/``zstd``."""

    __slots__ = (
        "asset",
        "data",
        "encoding",
        "etag",
        "headers",
        "headers_304",
        "hot",
        "path",
        "size",
    )

    def __init__(self, asset: Asset, encoding: str, path: str | None, size: int, etag: str) -> None:
        self.asset = asset
        self.encoding = encoding
        #: file on disk; None for a variant compressed in memory on first request
        self.path = path
        self.size = size
        self.etag = etag
        #: the bytes, while the memory cache holds them
        self.data: bytes | None = None
        self.hot = False
        self.headers: Store = {}
        self.headers_304: Store = {}

    def __repr__(self) -> str:
        return f"<Variant {self.asset.name} {self.encoding} {self.size}B>"


class Asset:
    """One servable file. Metadata may be known (index file) or found on first use."""

    __slots__ = (
        "cache_control",
        "choices",
        "compressible",
        "content_type",
        "identity",
        "immutable",
        "last_modified",
        "last_modified_http",
        "live",
        "missing",
        "mtime",
        "name",
        "path",
        "ready",
        "record",
        "root",
        "stamp",
        "variants",
        "verified",
    )

    def __init__(self, name: str, path: str, *, hashed: bool = False) -> None:
        # Kept to two attributes' work: start-up creates one per file.
        self.name = name
        self.path = path
        #: the manifest says this is a content-hashed name
        self.immutable = hashed
        #: the real (symlink-free) directory this file must stay inside; None: the index's
        self.root: str | None = None
        #: the index file's record, turned into variants on first use
        self.record: list[Any] | None = None
        self.content_type = ""
        self.compressible = False
        self.cache_control = ""
        self.mtime: int | None = None
        self.last_modified: int | None = None
        self.last_modified_http: str | None = None
        self.identity: Variant | None = None
        self.variants: tuple[Variant, ...] = ()
        #: codings that may still be produced in memory on first request
        self.missing: tuple[str, ...] = ()
        #: Accept-Encoding value -> chosen variant (None: nothing acceptable)
        self.choices: dict[str | None, Variant | None] = {}
        self.ready = False
        self.verified = False
        #: served from the finders in DEBUG: checked against the disk on each request
        self.live = False
        #: (mtime_ns, size) of the file when last read, for live assets
        self.stamp: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"<Asset {self.name}>"

    # -- metadata --------------------------------------------------------
    def classify(self) -> None:
        """Media type, compressibility and immutability, from the name alone."""
        media = media_type(self.name)
        self.content_type = media
        self.compressible = is_compressible(media)
        self.immutable = self.immutable or looks_hashed(self.name)

    def set_identity(self, size: int, mtime: int, etag: str) -> Variant:
        self.mtime = mtime
        self.identity = Variant(self, "identity", self.path, size, etag)
        self.variants = (self.identity,)
        return self.identity

    def add_variant(self, encoding: str, path: str | None, size: int, etag: str) -> Variant:
        variant = Variant(self, encoding, path, size, etag)
        self.variants = tuple(sorted((*self.variants, variant), key=lambda v: v.size))
        self.choices = {}
        return variant

    @property
    def size(self) -> int:
        return self.identity.size if self.identity is not None else 0

    # -- headers ---------------------------------------------------------
    def build_headers(self, options: ServeOptions, *, no_cache: bool = False) -> None:
        """Compute every variant's 200 and 304 header stores; marks the asset ready."""
        if self.identity is None:
            raise ValueError(f"{self.name}: metadata not loaded")
        if not self.content_type:
            self.classify()
        if no_cache and not self.immutable:
            self.cache_control = "no-cache"
        elif self.immutable:
            self.cache_control = f"public, max-age={options.immutable_max_age}, immutable"
        else:
            self.cache_control = f"public, max-age={options.max_age}"
        if self.mtime:
            self.last_modified = self.mtime
            self.last_modified_http = http_date(self.mtime)
        ctype = content_type(self.content_type, options.charset)
        for variant in self.variants:
            self._variant_headers(variant, ctype, options)
        self.choices = {}
        self.ready = True

    def refresh_variant_headers(self, variant: Variant, options: ServeOptions) -> None:
        self._variant_headers(variant, content_type(self.content_type, options.charset), options)

    def _variant_headers(self, variant: Variant, ctype: str, options: ServeOptions) -> None:
        h: Store = {
            "content-type": ("Content-Type", ctype),
            "content-length": ("Content-Length", str(variant.size)),
        }
        if variant.encoding != "identity":
            h["content-encoding"] = ("Content-Encoding", variant.encoding)
        if options.etags:
            h["etag"] = ("ETag", variant.etag)
        if self.last_modified_http is not None:
            h["last-modified"] = ("Last-Modified", self.last_modified_http)
        h["cache-control"] = ("Cache-Control", self.cache_control)
        if self.compressible:
            h["vary"] = ("Vary", "Accept-Encoding")
        h["accept-ranges"] = ("Accept-Ranges", "bytes")
        if options.allow_all_origins:
            h["access-control-allow-origin"] = ("Access-Control-Allow-Origin", "*")
        variant.headers = h
        # RFC 9110 §15.4.5: the fields a 200 would carry that a cache must update.
        variant.headers_304 = {key: h[key] for key in ("etag", "cache-control", "vary") if key in h}
        if not options.etags and "last-modified" in h:
            variant.headers_304["last-modified"] = h["last-modified"]
