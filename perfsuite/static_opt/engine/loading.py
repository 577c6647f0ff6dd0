"""Preparing an asset for its first request: containment, metadata, variants on disk.

An asset from the index file only needs its record turned into variants and its
paths checked (symlinks must not leave the root). One from the manifest or a scan
is read once: stat, hash (kept in memory when small), and its ``.zst``/``.br``/``.gz``
siblings verified by decoding them (or, when large, by being newer than the file).
"""

from __future__ import annotations

import logging
import os
import stat
import threading

from . import compress as codecs
from .assets import Asset, ServeOptions, etag_of, new_hasher
from .index import apply_record
from .memory import MemoryCache

logger = logging.getLogger("perfsuite.static_opt")

_READ_CHUNK = 1024 * 1024


def _real(path: str) -> str:
    return os.path.realpath(path)


class AssetLoader:
    """Turns index entries into servable assets: containment, metadata, variants."""

    def __init__(self, root: str | None, assets: dict[str, Asset], options: ServeOptions) -> None:
        self.root = root
        self.real_root = _real(root) if root else None
        self.assets = assets
        self.options = options
        self.memory = MemoryCache(options.memory_total)
        self.lock = threading.RLock()
        self.encodings = tuple(e for e in options.encodings if e in codecs.available())

    # -- preparing -------------------------------------------------------
    def contained(self, path: str, real_root: str | None = None) -> bool:
        """Does ``path``, symlinks resolved, stay inside the root?"""
        root = real_root or self.real_root
        if root is None:
            return False
        return _real(path).startswith(root.rstrip(os.sep) + os.sep)

    def prepare(self, asset: Asset) -> bool:
        """Load what the first request needs; False when the file cannot be served."""
        with self.lock:
            if asset.ready:
                return True
            try:
                return self._prepare(asset, asset.root or self.real_root)
            except OSError as exc:
                logger.info("static_opt: cannot serve %s: %s", asset.name, exc)
                return False

    def _prepare(self, asset: Asset, real_root: str | None) -> bool:
        if not self.contained(asset.path, real_root):
            logger.warning("static_opt: %s resolves outside its root; not served", asset.name)
            return False
        if asset.identity is None and asset.record is not None:
            try:
                apply_record(asset, asset.record)
            except (TypeError, ValueError, AttributeError):
                asset.identity, asset.variants = None, ()
            asset.record = None
        if asset.identity is None:
            self._read_metadata(asset, real_root)
        else:
            allowed = self.options.encodings
            asset.variants = tuple(
                v
                for v in asset.variants
                if v.encoding == "identity"
                or (v.encoding in allowed and (v.path is None or self.contained(v.path, real_root)))
            )
        asset.classify()
        options = self.options
        enabled = [e for e in asset.missing if e in self.encodings]
        if (
            not options.dynamic_compression
            or not asset.compressible
            or not options.min_size <= asset.size <= options.memory_file_max
        ):
            enabled = []
        asset.missing = tuple(enabled)
        asset.build_headers(options, no_cache=asset.live)
        asset.verified = True
        return True

    def _read_metadata(self, asset: Asset, real_root: str | None) -> None:
        st = os.stat(asset.path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{asset.path} is not a regular file")
        data, etag = self._read_and_hash(asset.path, st.st_size)
        identity = asset.set_identity(
            st.st_size if data is None else len(data), int(st.st_mtime), etag
        )
        asset.stamp = (st.st_mtime_ns, st.st_size)
        asset.classify()
        asset.missing = codecs.KNOWN
        if asset.compressible:
            found = self._find_variants(asset, data, st, real_root)
            asset.missing = tuple(e for e in codecs.KNOWN if e not in found)
        if data is not None:
            self.memory.put(identity, data)

    def _read_and_hash(self, path: str, size: int) -> tuple[bytes | None, str]:
        with open(path, "rb") as f:
            if size <= self.options.memory_file_max:
                data = f.read()
                return data, etag_of(data)
            hasher = new_hasher()
            while chunk := f.read(_READ_CHUNK):
                hasher.update(chunk)
        return None, '"' + hasher.hexdigest() + '"'

    def _find_variants(
        self, asset: Asset, data: bytes | None, st: os.stat_result, real_root: str | None
    ) -> list[str]:
        """Precompressed siblings that decode to the file (or, if large, are newer)."""
        found = []
        for encoding in self.options.encodings:
            vpath = asset.path + codecs.SUFFIXES[encoding]
            try:
                vst = os.stat(vpath)
            except OSError:
                continue
            if not stat.S_ISREG(vst.st_mode) or not self.contained(vpath, real_root):
                continue
            vdata, vetag = self._read_and_hash(vpath, vst.st_size)
            if vdata is not None and data is not None and encoding in codecs.available():
                try:
                    if codecs.decompress(encoding, vdata) != data:
                        continue
                except Exception:
                    continue
            elif vst.st_mtime_ns < st.st_mtime_ns:
                continue
            variant = asset.add_variant(encoding, vpath, vst.st_size, vetag)
            if vdata is not None:
                self.memory.put(variant, vdata)
            found.append(encoding)
        return found

    def invalidate(self, asset: Asset) -> None:
        """Forget what is known about ``asset``; the next request reads the disk again."""
        with self.lock:
            for variant in asset.variants:
                self.memory.discard(variant)
            asset.identity = None
            asset.record = None
            asset.variants = ()
            asset.missing = ()
            asset.choices = {}
            asset.ready = False
            asset.verified = False

    def check_live(self, asset: Asset) -> bool:
        """For finder-served (DEBUG) assets: has the file changed or gone?"""
        try:
            st = os.stat(asset.path)
        except OSError:
            return False
        if asset.stamp != (st.st_mtime_ns, st.st_size):
            self.invalidate(asset)
        return True
