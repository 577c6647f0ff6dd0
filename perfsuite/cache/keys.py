"""Cache keys, version keys and the small per-process memos behind them.

Key layout under ``CACHE_KEY_PREFIX`` (``{p}``) and a format version:

- ``{p}:2:e:{digest}``     an :class:`~perfsuite.cache.entries.Entry` (TTL: its TTL +
  its stale window)
- ``{p}:2:lock:{digest}``  the render lock of that page (``CACHE_LOCK_TIMEOUT``)
- ``{p}:2:gen``            the namespace generation
- ``{p}:2:tag:{digest}``   the version of one tag (a path is a tag too)

Version keys live at least as long as the longest entry stored under them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from perfsuite.core.conf import perf_settings

from . import keyparts
from .backend import forget_backends

#: tags seen on each path's entries, so a lookup fetches their versions at once
known_tags: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_KNOWN_TAGS_MAX = 10_000
_keys: dict[str, str] = {}


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CACHES", "PERFSUITE"):
        forget_backends()
        known_tags.clear()
        _keys.clear()


def key_prefix() -> str:
    prefix = _keys.get("")
    if prefix is None:
        prefix = _keys[""] = f"{perf_settings.CACHE_KEY_PREFIX}:2"
    return prefix


def generation_key() -> str:
    return f"{key_prefix()}:gen"


def tag_key(tag: str) -> str:
    key = _keys.get(tag)
    if key is None:
        if len(_keys) > 10_000:
            _keys.clear()
        key = _keys[tag] = f"{key_prefix()}:tag:{keyparts.digest(tag)}"
    return key


def path_tag(path: str) -> str:
    return f"path:{path}"


def remember_tags(path: str, tags: tuple[str, ...]) -> None:
    old = known_tags.get(path, ())
    merged = tags if not old else tuple(dict.fromkeys((*old, *tags)))
    known_tags[path] = merged[:32]
    known_tags.move_to_end(path)
    while len(known_tags) > _KNOWN_TAGS_MAX:
        known_tags.popitem(last=False)


@dataclass(slots=True)
class PageKey:
    """The keys one request reads and writes."""

    entry: str
    lock: str
    path: str
    #: tags whose versions a lookup fetches with the entry (one round trip)
    tags: tuple[str, ...]

    def fetch(self) -> list[str]:
        return [self.entry, generation_key(), *(tag_key(t) for t in self.tags)]


def page_key(
    request: HttpRequest,
    who: str,
    *,
    language: str,
    extra: tuple[str, ...],
    static_tags: tuple[str, ...],
    tracking: tuple[str, ...],
) -> PageKey:
    """The key of this request's page: everything the response may depend on."""
    meta = request.META
    base = keyparts.digest(
        request.method or "GET",
        request.scheme or "http",
        host(request),
        request.path,
        keyparts.normalized_query(meta.get("QUERY_STRING", ""), tracking),
        keyparts.normalized_accept(meta.get("HTTP_ACCEPT")),
        language,
        who,
        *extra,
    )
    prefix = key_prefix()
    path = request.path
    tags = (*static_tags, path_tag(path), *known_tags.get(path, ()))
    return PageKey(f"{prefix}:e:{base}", f"{prefix}:lock:{base}", path, tuple(dict.fromkeys(tags)))


_hosts: dict[tuple[str, str, str, str], str] = {}


def host(request: HttpRequest) -> str:
    """``request.get_host()`` (validated against ALLOWED_HOSTS) memoised per raw host."""
    meta = request.META
    raw = (
        meta.get("HTTP_X_FORWARDED_HOST", ""),
        meta.get("HTTP_HOST", ""),
        meta.get("SERVER_NAME", ""),
        str(meta.get("SERVER_PORT", "")),
    )
    host = _hosts.get(raw)
    if host is None:
        host = request.get_host()  # raises DisallowedHost: Django answers 400
        if len(_hosts) > 1000:
            _hosts.clear()
        _hosts[raw] = host
    return host


@receiver(setting_changed)
def _reset_hosts(*, setting: str, **kwargs: Any) -> None:
    if setting in ("ALLOWED_HOSTS", "USE_X_FORWARDED_HOST", "DEBUG"):
        _hosts.clear()


def register_clearable() -> None:
    """The per-process memos of this module, shrinkable by the memory app."""
    from perfsuite.core import caches

    memos: dict[str, MutableMapping[Any, Any]] = {
        "cache.known_tags": known_tags,
        "cache.hosts": _hosts,
        "cache.key_memo": _keys,
    }
    for name, memo in memos.items():
        caches.register(name, *_size_and_shrink(memo))


def _size_and_shrink(
    memo: MutableMapping[Any, Any],
) -> tuple[Callable[[], tuple[int, int]], Callable[[float], int]]:
    from perfsuite.core import caches

    def size() -> tuple[int, int]:
        return caches.mapping_size(memo)

    def shrink(keep: float) -> int:
        return caches.shrink_mapping(memo, keep)

    return size, shrink
