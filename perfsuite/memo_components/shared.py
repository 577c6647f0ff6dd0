"""The shared level of the render cache: a Django cache alias every process uses
(``COMPONENT_CACHE_ALIAS``, Redis in production), and the invalidations between them.

- A render is stored under its local key plus the **generation** of every model
  instance it shows (``gen:<label>:<pk>``, 0 until the instance is first saved or
  deleted). Saving an instance increments its generation, so no process, not even
  one started later, can reach a render made before.
- Each invalidation is also appended to a log (``epoch`` and ``inv:<n>``), which
  every process reads at most every ``COMPONENT_SYNC_INTERVAL`` seconds to drop its
  own LRU entries that show the instance (a gap in the log drops them all).
- A failing alias (Redis down) opens a circuit breaker: renders are then kept per
  process until it answers again; a request never waits on it repeatedly.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from django.core.cache import BaseCache, caches

from perfsuite.core.breaker import Breaker
from perfsuite.core.conf import perf_settings

logger = logging.getLogger("perfsuite.memo_components")
PREFIX = "perfsuite:memo:"
EPOCH = PREFIX + "epoch"
MAX_GAP = 500

breaker = Breaker("component cache", base=1.0, cap=30.0)


class _State:
    epoch: int | None = None  # the last log entry this process has read
    checked = 0.0


_state = _State()
_sync_lock = threading.Lock()


def backend() -> BaseCache | None:
    """The shared alias, or None (not configured, unknown, or its breaker is open)."""
    alias = perf_settings.as_dict()["COMPONENT_CACHE_ALIAS"]
    if alias is None or not breaker.allow():
        return None
    try:
        return caches[alias]
    except Exception:  # an alias that is not in CACHES: check E201
        return None


def _failed(exc: Exception) -> None:
    breaker.failure()
    logger.warning("component cache alias failed (%s): renders kept per process", exc)


def dep_key(dep: tuple[str, Any]) -> str:
    return f"{PREFIX}gen:{dep[0]}:{dep[1]}"


def shared_key(cache: BaseCache, local_key: str, deps: tuple[tuple[str, Any], ...]) -> str:
    """``local_key`` bound to the current generation of each instance shown."""
    if not deps:
        return PREFIX + "r:" + local_key
    keys = [dep_key(dep) for dep in deps]
    found = cache.get_many(keys)
    gens = ",".join(str(found.get(key, 0)) for key in keys)
    digest = hashlib.blake2b(f"{local_key}|{gens}".encode(), digest_size=16).hexdigest()
    return PREFIX + "r:" + digest


def get(local_key: str, deps: tuple[tuple[str, Any], ...]) -> tuple[str | None, str | None]:
    """(the shared render or None, the shared key to store a new render under)."""
    cache = backend()
    if cache is None:
        return None, None
    try:
        key = shared_key(cache, local_key, deps)
        html = cache.get(key)
    except Exception as exc:
        _failed(exc)
        return None, None
    breaker.success()
    return html, key


def put(key: str | None, html: str) -> None:
    cache = backend()
    if cache is None or key is None:
        return
    try:
        cache.set(key, html, int(perf_settings.as_dict()["COMPONENT_CACHE_TTL"]))
    except Exception as exc:
        _failed(exc)


def _incr(cache: BaseCache, key: str) -> int:
    cache.add(key, 0, None)
    return int(cache.incr(key))


_marked: set[str] = set()


def mark_model(label: str) -> None:
    """Record, for every process, that renders show instances of model ``label``
    (before the first such render is stored, so a later save finds the mark)."""
    if label in _marked:
        return
    cache = backend()
    if cache is None:
        return
    try:
        cache.add(f"{PREFIX}model:{label}", 1, None)
    except Exception as exc:
        _failed(exc)
        return
    _marked.add(label)


def model_marked(cache: BaseCache, label: str) -> bool:
    return label in _marked or bool(cache.get(f"{PREFIX}model:{label}"))


def publish(dep: tuple[str, Any]) -> None:
    """Tell every process that ``dep`` changed: a new generation and a log entry (for
    a model no process has shown in a memoized render: one read, nothing written)."""
    cache = backend()
    if cache is None:
        return
    try:
        if not model_marked(cache, dep[0]):
            return
        _incr(cache, dep_key(dep))
        number = _incr(cache, EPOCH)
        ttl = int(perf_settings.as_dict()["COMPONENT_CACHE_TTL"])
        cache.set(f"{PREFIX}inv:{number}", [dep[0], str(dep[1])], ttl)
    except Exception as exc:
        _failed(exc)


def changes(force: bool = False) -> list[tuple[str, str]] | None:
    """Instances other processes invalidated since the last call (at most every
    ``COMPONENT_SYNC_INTERVAL``): a list, or None when everything must be dropped."""
    now = time.monotonic()
    if not force and now - _state.checked < perf_settings.as_dict()["COMPONENT_SYNC_INTERVAL"]:
        return []
    if not _sync_lock.acquire(blocking=False):
        return []
    try:
        _state.checked = now
        cache = backend()
        if cache is None:
            return []
        try:
            epoch = int(cache.get(EPOCH) or 0)
            last = _state.epoch
            _state.epoch = epoch
            if last is None or epoch == last:
                return []
            if epoch < last or epoch - last > MAX_GAP:
                return None  # the log restarted or we are far behind
            found = cache.get_many([f"{PREFIX}inv:{n}" for n in range(last + 1, epoch + 1)])
        except Exception as exc:
            _failed(exc)
            return []
        if len(found) < epoch - last:
            return None  # some entries expired: drop everything to be safe
        return [(str(label), str(pk)) for label, pk in found.values()]
    finally:
        _sync_lock.release()
