"""The start-up index: URL name -> :class:`~.assets.Asset`, built without a stat per file.

Sources, best first:

1. ``staticfiles.perfsuite.json``, written by our storage or ``compress_static``
   next to the manifest: every file's size, mtime, ETag and precompressed
   variants. Start-up reads one JSON file and touches nothing else; a file's
   record becomes its variants on the first request for it.
2. The Django manifest (``staticfiles.json``): the file set is its original and
   hashed names; each file's metadata is read on its first request.
3. No manifest: one ``os.scandir`` walk (no stat of regular files on Linux), with
   precompressed ``.br``/``.gz``/``.zst`` siblings left out.

Only names that are canonical relative paths get into the index, and the
manifest and index files themselves are never served.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from .assets import Asset, is_canonical
from .compress import SUFFIXES

logger = logging.getLogger("perfsuite.static_opt")

INDEX_NAME = "staticfiles.perfsuite.json"
INDEX_VERSION = 1
MANIFEST_NAME = "staticfiles.json"
_VARIANT_SUFFIXES = tuple(SUFFIXES.values())


def path_of(root: str, name: str) -> str:
    return os.path.join(root, *name.split("/"))


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def read_manifest(root: str, manifest_name: str = MANIFEST_NAME) -> dict[str, str] | None:
    """``{original: hashed}`` from a Django manifest, or None when there is none."""
    try:
        with open(path_of(root, manifest_name), "rb") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("static_opt: ignoring unreadable manifest %s: %s", manifest_name, exc)
        return None
    paths = data.get("paths") if isinstance(data, dict) else None
    if not isinstance(paths, dict):
        logger.warning("static_opt: ignoring manifest %s without 'paths'", manifest_name)
        return None
    return {str(k): str(v) for k, v in paths.items()}


def manifest_names(paths: dict[str, str]) -> Iterator[tuple[str, bool]]:
    """``(name, hashed)`` for every name a manifest lists."""
    hashed = set(paths.values())
    for name in {*paths, *hashed}:
        yield name, name in hashed


def scan(root: str, skip: Iterable[str] = ()) -> list[str]:
    """Every regular file under ``root`` as a relative POSIX name (symlinks included)."""
    found: list[str] = []
    stack = [("", root)]
    while stack:
        prefix, directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((name + "/", entry.path))
                elif entry.is_file():
                    found.append(name)
            except OSError:
                continue
    names = set(found)
    skipped = set(skip)
    return sorted(
        name
        for name in names
        if name not in skipped
        and not (name.endswith(_VARIANT_SUFFIXES) and name.rsplit(".", 1)[0] in names)
    )


def load(root: str, manifest_name: str = MANIFEST_NAME) -> tuple[dict[str, Asset], str]:
    """The index of ``root`` and where it came from (``index``, ``manifest``, ``scan``)."""
    manifest_path = path_of(root, manifest_name)
    own = _load_index_file(root, manifest_path)
    if own is not None:
        return own, "index"
    paths = read_manifest(root, manifest_name)
    assets: dict[str, Asset] = {}
    if paths is not None:
        for name, hashed in manifest_names(paths):
            if is_canonical(name) and name not in (manifest_name, INDEX_NAME):
                assets[name] = Asset(name, path_of(root, name), hashed=hashed)
        return assets, "manifest"
    if not os.path.isdir(root):
        return {}, "missing"
    for name in scan(root, skip=(manifest_name, INDEX_NAME)):
        if is_canonical(name):
            assets[name] = Asset(name, path_of(root, name))
    return assets, "scan"


def _load_index_file(root: str, manifest_path: str) -> dict[str, Asset] | None:
    try:
        with open(os.path.join(root, INDEX_NAME), "rb") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("static_opt: ignoring unreadable %s: %s", INDEX_NAME, exc)
        return None
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return None
    if data.get("manifest") != _stamp(manifest_path):
        # collectstatic ran again without our storage: the recorded files are stale.
        logger.info("static_opt: %s is older than the manifest; not used", INDEX_NAME)
        return None
    assets: dict[str, Asset] = {}
    try:
        for name, record in data["files"].items():
            if not is_canonical(name):
                continue
            if not isinstance(record, list) or len(record) != 6:
                raise ValueError(f"bad record for {name!r}")
            asset = Asset(name, path_of(root, name), hashed=bool(record[3]))
            asset.record = record
            assets[name] = asset
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("static_opt: ignoring malformed %s: %s", INDEX_NAME, exc)
        return None
    return assets


def apply_record(asset: Asset, record: list[Any]) -> None:
    """Give ``asset`` the metadata an index-file record holds (no disk access)."""
    size, mtime, etag, _hashed, variants, tried = record
    asset.set_identity(int(size), int(mtime), str(etag))
    for encoding, (vsize, vetag) in variants.items():
        if encoding in SUFFIXES:
            asset.add_variant(encoding, asset.path + SUFFIXES[encoding], int(vsize), str(vetag))
    asset.missing = tuple(e for e in SUFFIXES if e not in tried)


def to_record(asset: Asset, tried: Iterable[str]) -> list[Any]:
    identity = asset.identity
    assert identity is not None
    variants = {v.encoding: [v.size, v.etag] for v in asset.variants if v.encoding != "identity"}
    return [
        identity.size,
        asset.mtime or 0,
        identity.etag,
        int(asset.immutable),
        variants,
        list(tried),
    ]


def write_index_file(root: str, records: dict[str, list[Any]], manifest_name: str) -> str:
    """Write ``staticfiles.perfsuite.json`` atomically; returns its path."""
    data = {
        "version": INDEX_VERSION,
        "manifest": _stamp(path_of(root, manifest_name)),
        "files": dict(sorted(records.items())),
    }
    target = os.path.join(root, INDEX_NAME)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    os.replace(tmp, target)
    return target
