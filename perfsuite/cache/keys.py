"""Cache keys, version keys and the small per-process memos behind them."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from perfsuite.core.conf import perf_settings

from . import policy
from .backend import CacheBackend

_backends: dict[str, CacheBackend] = {}
known_tags: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_KNOWN_TAGS_MAX = 10_000


_keys: dict[str, str] = {}


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CACHES", "PERFSUITE"):
        _backends.clear()
        known_tags.clear()
        _keys.clear()


def backend_for(alias: str) -> CacheBackend:
    backend = _backends.get(alias)
    if backend is None:
        backend = _backends[alias] = CacheBackend(alias)
    return backend


def key_prefix() -> str:
    prefix = _keys.get("")
    if prefix is None:
        prefix = _keys[""] = f"{perf_settings.CACHE_KEY_PREFIX}:1"
    return prefix


def generation_key() -> str:
    return f"{key_prefix()}:gen"


def tag_key(tag: str) -> str:
    key = _keys.get(tag)
    if key is None:
        if len(_keys) > 10_000:
            _keys.clear()
        key = _keys[tag] = f"{key_prefix()}:tag:{policy.digest(tag)}"
    return key


def path_tag(path: str) -> str:
    return f"path:{path}"


def remember_tags(entry_key: str, tags: tuple[str, ...]) -> None:
    known_tags[entry_key] = tags
    known_tags.move_to_end(entry_key)
    while len(known_tags) > _KNOWN_TAGS_MAX:
        known_tags.popitem(last=False)


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
