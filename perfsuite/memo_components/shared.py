"""The shared level of the render cache: a Django cache alias every process uses
(``COMPONENT_CACHE_ALIAS``, Redis in production), and the invalidations between them.

- A render is stored under the stable hash of its key, with the **generation** of
  every model instance it shows when it was made (``gen:<label>:<pk>``, 0 until the
  instance is first saved or deleted); one ``get_many`` reads the render and the
  current generations, and a render made under other generations is a miss. Saving
  an instance increments its generation, so no process, not even one started later,
  can use a render made before.
- Each invalidation is also appended to a log (``epoch`` and ``inv:<n>``), which
  every process reads at most every ``COMPONENT_SYNC_INTERVAL`` seconds to drop its
  own LRU entries that show the instance (a gap in the log drops them all).
- A failing alias (Redis down) opens a circuit breaker: renders are then kept per
  process until it answers again; a request never waits on it repeatedly.
"""

from __future__ import annotations

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
    interval = 0.0  # COMPONENT_SYNC_INTERVAL, read at each check


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


def get(digest: str, deps: tuple[tuple[str, Any], ...]) -> tuple[str | None, Any]:
    """(the shared render or None, the generations to store a new render with), in one
    round trip: the render and the current generation of every instance it shows."""
    return get_batch([(digest, deps)])[0]


def get_batch(
    wanted: list[tuple[str, tuple[tuple[str, Any], ...]]],
) -> list[tuple[str | None, Any]]:
    """Many renders and their instances' generations in one round trip (``get_many``):
    ``[(digest, deps), ...]`` -> ``[(html or None, generations or None), ...]``."""
    cache = backend()
    if cache is None or not wanted:
        return [(None, None)] * len(wanted)
    keys = {PREFIX + "r:" + digest for digest, _deps in wanted}
    keys.update(dep_key(dep) for _digest, deps in wanted for dep in deps)
    try:
        found = cache.get_many(list(keys))
    except Exception as exc:
        _failed(exc)
        return [(None, None)] * len(wanted)
    breaker.success()
    answers: list[tuple[str | None, Any]] = []
    for digest, deps in wanted:
        gens = tuple(int(found.get(dep_key(dep), 0)) for dep in deps)
        answers.append((_fresh(found.get(PREFIX + "r:" + digest), gens), gens))
    return answers


def _fresh(stored: Any, gens: tuple[int, ...]) -> str | None:
    """The stored render when it was made under ``gens`` (the generations of now)."""
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == gens:
        return str(stored[1])
    return None


def put(digest: str, gens: Any, html: str) -> None:
    cache = backend()
    if cache is None or gens is None:
        return
    try:
        ttl = int(perf_settings.as_dict()["COMPONENT_CACHE_TTL"])
        cache.set(PREFIX + "r:" + digest, (gens, html), ttl)
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
    if not force and now - _state.checked < _state.interval:
        return []
    if not _sync_lock.acquire(blocking=False):
        return []
    try:
        _state.checked = now
        _state.interval = float(perf_settings.as_dict()["COMPONENT_SYNC_INTERVAL"])
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
