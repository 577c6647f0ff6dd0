"""Clearable caches: process-local caches that may grow, and how to shrink them.

An app that keeps something in memory per process (the component render LRU,
query-level caches, the response cache's key memos) registers it here with a
name, a size function and a shrink function. The memory app frees memory only
through this registry, never by importing the app that owns a cache.

    from perfsuite.core import caches

    caches.register("cache.known_tags", size=lambda: (len(memo), 0), shrink=shrink_memo)
    caches.shrink_all(0.5)  # every registered cache keeps its most recent half
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("perfsuite.core")

Size = Callable[[], tuple[int, int]]
Shrink = Callable[[float], int]


@dataclass(frozen=True)
class ClearableCache:
    """``size()`` -> (entries, bytes, 0 when unknown); ``shrink(keep)`` keeps the
    most recently used fraction ``keep`` (0 empties it) and returns entries removed."""

    name: str
    size: Size
    shrink: Shrink


_caches: dict[str, ClearableCache] = {}
_lock = threading.Lock()


def register(name: str, size: Size, shrink: Shrink) -> ClearableCache:
    """Register (or replace, by name) a cache. Idempotent."""
    cache = ClearableCache(name, size, shrink)
    with _lock:
        _caches[name] = cache
    return cache


def unregister(name: str) -> None:
    with _lock:
        _caches.pop(name, None)


def registered() -> list[ClearableCache]:
    with _lock:
        return sorted(_caches.values(), key=lambda c: c.name)


def sizes() -> dict[str, tuple[int, int]]:
    return {cache.name: cache.size() for cache in registered()}


def shrink_all(keep: float) -> dict[str, int]:
    """Shrink every registered cache to its most recent ``keep`` fraction: name ->
    entries removed. A cache whose shrink fails is logged and reported as 0; the
    others are shrunk all the same (a cleanup must not stop at one broken cache)."""
    if not 0 <= keep <= 1:
        raise ValueError("keep must be a fraction between 0 and 1")
    removed: dict[str, int] = {}
    for cache in registered():
        try:
            removed[cache.name] = int(cache.shrink(keep))
        except Exception:
            logger.warning("shrinking the clearable cache %r failed", cache.name, exc_info=True)
            removed[cache.name] = 0
    return removed


# -- helpers for the common shapes ---------------------------------------------
def mapping_size(mapping: MutableMapping[Any, Any]) -> tuple[int, int]:
    """Entries, and a rough byte count (the container and its keys and values)."""
    try:
        items = list(mapping.items())
    except RuntimeError:  # changed while read: report the entries only
        return len(mapping), 0
    total = sys.getsizeof(mapping)
    for key, value in items:
        total += sys.getsizeof(key) + sys.getsizeof(value)
    return len(items), total


def shrink_mapping(mapping: MutableMapping[Any, Any], keep: float) -> int:
    """Keep the last ``keep`` fraction of a mapping (insertion or LRU order)."""
    drop = len(mapping) - int(len(mapping) * keep)
    if drop <= 0:
        return 0
    if isinstance(mapping, OrderedDict):
        for _ in range(drop):
            try:
                mapping.popitem(last=False)
            except KeyError:
                break
        return drop
    for key in list(mapping)[:drop]:
        mapping.pop(key, None)
    return drop
