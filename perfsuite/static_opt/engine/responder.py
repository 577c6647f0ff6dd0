"""The request logic: from an indexed asset and WSGI-style headers to an :class:`Outcome`.

:meth:`Responder.respond` does, in order: method (GET/HEAD, else 405), content
negotiation (406 when nothing is acceptable), preconditions (RFC 9110 §13.2.2:
412/304), then Range with If-Range (206/416) or the whole representation.
Bodies come from the memory budget when the representation is small enough,
else the caller streams the file.
"""

from __future__ import annotations

import os
from typing import BinaryIO, NamedTuple

from . import compress as codecs
from .assets import Asset, ServeOptions, Store, Variant, etag_of
from .conditional import NOT_MODIFIED, PRECONDITION_FAILED, evaluate, if_range_matches
from .loading import AssetLoader
from .negotiation import acceptable, choose, parse_accept_encoding
from .ranges import UNSATISFIABLE, content_range, parse_range, unsatisfied_range

_UNSET = object()
_MAX_CHOICES = 32

NOT_ALLOWED: Store = {
    "allow": ("Allow", "GET, HEAD"),
    "content-length": ("Content-Length", "0"),
}
EMPTY: Store = {"content-length": ("Content-Length", "0")}


class Outcome(NamedTuple):
    """What to send: status, a header store (copy before changing), body slice."""

    status: int
    headers: Store
    variant: Variant | None = None
    start: int = 0
    length: int = 0


class StaleFile(Exception):
    """The file on disk no longer matches the index: re-read it and try again."""


class Responder:
    """Answers requests for the assets of one index (plus live ones the caller adds).

    It has a :class:`~.loading.AssetLoader` (which turns index entries into servable
    assets) rather than being one.
    """

    def __init__(self, root: str | None, assets: dict[str, Asset], options: ServeOptions) -> None:
        self.loader = AssetLoader(root, assets, options)
        self.options = options
        self.memory = self.loader.memory

    def invalidate(self, asset: Asset) -> None:
        """The file changed on disk: read it again on its next request."""
        self.loader.invalidate(asset)

    # -- choosing ----------------------------------------------------------
    def select(self, asset: Asset, accept: str | None) -> Variant | None:
        prefs = parse_accept_encoding(accept)
        if asset.missing and acceptable(prefs, asset.missing):
            self._compress_missing(asset)
        variant = choose(prefs, asset.variants)
        if len(asset.choices) >= _MAX_CHOICES:
            asset.choices = {}
        asset.choices[accept] = variant
        return variant

    def _compress_missing(self, asset: Asset) -> None:
        """Compress a file once, in memory, in every coding it has no variant for."""
        with self.loader.lock:
            missing, asset.missing = asset.missing, ()
            identity = asset.identity
            if not missing or identity is None:
                return
            try:
                data = self.body(identity)
            except (StaleFile, OSError):
                return
            if data is None:
                return
            for encoding in missing:
                out = codecs.compress(encoding, data, codecs.DYNAMIC[encoding])
                if codecs.worth_it(len(data), len(out), self.options.max_ratio):
                    variant = asset.add_variant(encoding, None, len(out), etag_of(out))
                    asset.refresh_variant_headers(variant, self.options)
                    self.memory.put(variant, out)

    # -- responding --------------------------------------------------------
    def respond(self, asset: Asset, method: str, environ: dict[str, str]) -> Outcome | None:
        """The outcome for one request, or None when the file cannot be served."""
        if method != "GET" and method != "HEAD":
            return Outcome(405, NOT_ALLOWED)
        if asset.live and not self.loader.check_live(asset):
            return None
        if not asset.ready and not self.loader.prepare(asset):
            return None
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        variant = asset.choices.get(accept, _UNSET)
        if variant is _UNSET:
            variant = self.select(asset, accept)
        if variant is None:
            return Outcome(406, {**EMPTY, "vary": ("Vary", "Accept-Encoding")})
        assert isinstance(variant, Variant)
        etag = variant.etag if self.options.etags else None
        if (
            "HTTP_IF_NONE_MATCH" in environ
            or "HTTP_IF_MODIFIED_SINCE" in environ
            or "HTTP_IF_MATCH" in environ
            or "HTTP_IF_UNMODIFIED_SINCE" in environ
        ):
            status = evaluate(environ, etag, asset.last_modified)
            if status == NOT_MODIFIED:
                return Outcome(304, variant.headers_304, variant)
            if status == PRECONDITION_FAILED:
                return Outcome(412, EMPTY)
        if method == "HEAD":
            return Outcome(200, variant.headers, variant)
        size = variant.size
        range_header = environ.get("HTTP_RANGE")
        if range_header is not None:
            if_range = environ.get("HTTP_IF_RANGE")
            if if_range is None or if_range_matches(if_range, etag, asset.last_modified_http):
                found = parse_range(range_header, size)
                if found == UNSATISFIABLE:
                    headers = {**EMPTY, "content-range": ("Content-Range", unsatisfied_range(size))}
                    if "vary" in variant.headers:
                        headers["vary"] = variant.headers["vary"]
                    return Outcome(416, headers)
                if isinstance(found, tuple):
                    first, last = found
                    headers = dict(variant.headers)
                    headers["content-range"] = ("Content-Range", content_range(first, last, size))
                    headers["content-length"] = ("Content-Length", str(last - first + 1))
                    return Outcome(206, headers, variant, first, last - first + 1)
        return Outcome(200, variant.headers, variant, 0, size)

    # -- bodies --------------------------------------------------------------
    def body(self, variant: Variant) -> bytes | None:
        """The bytes of a small representation (memory, else read once); None to stream."""
        data = variant.data
        if data is not None:
            variant.hot = True
            return data
        if variant.size > self.options.memory_file_max:
            return None
        if variant.path is None:
            data = self._regenerate(variant)
        else:
            try:
                with open(variant.path, "rb") as f:
                    data = f.read(variant.size + 1)
            except OSError as exc:
                raise StaleFile(variant.path) from exc
            if len(data) != variant.size:
                raise StaleFile(variant.path)
        self.memory.put(variant, data)
        return data

    def _regenerate(self, variant: Variant) -> bytes:
        """A memory-only variant the budget evicted: compress it again (deterministic)."""
        identity = variant.asset.identity
        source = self.body(identity) if identity is not None else None
        if source is None:
            raise StaleFile(variant.asset.path)
        data = codecs.compress(variant.encoding, source, codecs.DYNAMIC[variant.encoding])
        if etag_of(data) != variant.etag:
            raise StaleFile(variant.asset.path)
        return data

    def open(self, variant: Variant) -> BinaryIO:
        """An open file for streaming ``variant``; StaleFile when it changed on disk."""
        if variant.path is None:
            raise StaleFile(variant.asset.path)
        try:
            f = open(variant.path, "rb")  # noqa: SIM115 - closed by the response
        except OSError as exc:
            raise StaleFile(variant.path) from exc
        if os.fstat(f.fileno()).st_size != variant.size:
            f.close()
            raise StaleFile(variant.path)
        return f
