"""``MemoizedComponent``: a component whose render is cached under a stable key.

    class ProductCard(MemoizedComponent):
        name = "product_card"
        template_name = "shop/components/product_card.html"
        declared_props = {"product": Prop(Product), "show_description": Prop(bool, default=True)}

Two levels: this process's LRU (:mod:`.lru`), then the shared alias (:mod:`.shared`).
Concurrent misses of one key render once per process: the others wait for it.
``ProductCard.get_cache_stats()`` gives the guide's ``hits``, ``misses``, ``hit_rate``
and ``cache_size`` for this process (plus ``shared_hits``, ``evictions``, ``bytes``);
the dashboard panel sums every process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.utils.safestring import SafeString

from . import metrics, shared
from .components import Component
from .invalidation import sync
from .keys import local_key, models_in, stable_hash
from .lru import renders

_flights: dict[Any, threading.Lock] = {}
_flights_lock = threading.Lock()
_identities: dict[type, str] = {}


class _Prefetched(threading.local):
    """This thread's prefetched shared answers: local key -> (html or None, generations)."""

    def __init__(self) -> None:
        self.ready: dict[Any, tuple[str | None, Any]] = {}


_prefetched = _Prefetched()


def identity(cls: type[Component]) -> str:
    """The class and its template's source: a changed template is a new key."""
    known = _identities.get(cls)
    if known is None:
        template = cls.get_template()
        source = getattr(getattr(template, "template", template), "source", "")
        digest = hashlib.blake2b(source.encode(), digest_size=8).hexdigest()
        known = _identities[cls] = f"{cls.__module__}.{cls.__qualname__}:{digest}"
    return known


def forget_identities() -> None:
    """Templates changed (autoreload, tests): hash them again."""
    _identities.clear()


class MemoizedComponent(Component):
    #: True: renders are kept in the shared alias too (when COMPONENT_CACHE_ALIAS is set)
    shared: ClassVar[bool] = True

    def local_key(self) -> tuple[Any, ...]:
        return local_key(identity(type(self)), self.props)

    def memo_key(self) -> str:
        """The stable hash of this render's key (what the shared alias stores it under)."""
        return stable_hash(self.local_key())

    def render(self) -> SafeString:
        sync()
        label = self.label()
        key = self.local_key()
        html = renders.get(key)
        if html is not None:
            return _hit(label, html)
        with _flight(key):
            html = renders.get(key)  # rendered meanwhile by the thread we waited for
            if html is not None:
                return _hit(label, html)
            counts = renders.counts[label]
            deps = tuple(models_in(self.props))
            for model in {dep[0] for dep in deps}:
                shared.mark_model(model)
            digest = stable_hash(key)  # the shared alias's key
            ready = _prefetched.ready.pop(key, None) if self.shared else None
            if ready is not None:
                found, gens = ready
            elif self.shared:
                found, gens = shared.get(digest, deps)
            else:
                found, gens = None, None
            if found is not None:
                counts.shared_hits += 1
                metrics.record_render(label, "shared_hit")
                html = found
            else:
                counts.misses += 1
                metrics.record_render(label, "miss")
                html = str(super().render())
                shared.put(digest, gens, html)
            renders.put(key, html, label, deps)
            return SafeString(html)

    @classmethod
    def prefetch(cls, many_props: Iterable[Mapping[str, Any]]) -> int:
        """Read the shared renders of many instances in one round trip, before they are
        rendered (a list of cards: ``ProductList`` does it); those this process's LRU
        lacks are then found without asking the alias again, in this thread. Returns
        how many of them the alias had."""
        if not cls.shared or shared.backend() is None:
            return 0
        sync()
        wanted = []
        for props in many_props:
            key = local_key(identity(cls), cls.check_props(props))
            if renders.get(key) is None:
                wanted.append((key, tuple(models_in(props))))
        for model in {dep[0] for _key, deps in wanted for dep in deps}:
            shared.mark_model(model)
        answers = shared.get_batch([(stable_hash(key), deps) for key, deps in wanted])
        ready = _prefetched.ready
        ready.clear()  # only the latest list waits to be rendered
        for (key, _deps), answer in zip(wanted, answers, strict=True):
            ready[key] = answer
        return sum(1 for html, _gens in answers if html is not None)

    @classmethod
    def get_cache_stats(cls) -> dict[str, Any]:
        """This process's figures for this component (the guide's keys first)."""
        counts = renders.counts[cls.label()]
        hits = counts.hits + counts.shared_hits
        total = hits + counts.misses
        return {
            "hits": hits,
            "misses": counts.misses,
            "hit_rate": hits / total if total else 0.0,
            "cache_size": counts.entries,
            "shared_hits": counts.shared_hits,
            "evictions": counts.evictions,
            "bytes": counts.bytes,
        }


def _hit(label: str, html: str) -> SafeString:
    renders.counts[label].hits += 1
    metrics.record_render(label, "hit")
    return SafeString(html)


class _flight:
    """One lock per key while it renders; dropped when nobody holds it."""

    def __init__(self, key: Any) -> None:
        self.key = key

    def __enter__(self) -> None:
        with _flights_lock:
            lock = _flights.get(self.key)
            if lock is None:
                lock = _flights[self.key] = threading.Lock()
        lock.acquire()
        self.lock = lock

    def __exit__(self, *exc: Any) -> None:
        with _flights_lock:
            self.lock.release()
            if _flights.get(self.key) is self.lock and not self.lock.locked():
                del _flights[self.key]
