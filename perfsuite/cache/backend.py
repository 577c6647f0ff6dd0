"""The response cache's storage: one Django cache alias, sync and async, never waiting long.

:func:`backend_for` returns a :class:`RedisBackend` for a django-redis alias and a
:class:`DjangoCacheBackend` for any other. Both offer the same calls, each with an
``a``-prefixed async twin:

- ``get_many(keys)``, ``set(key, value, timeout)``, ``add(...)``, ``delete(key)``
- ``versions(keys, ttl)``: the current value of each version key, creating a
  missing one at a random start and keeping it alive at least ``ttl`` seconds
- ``bump(keys)``: increment the version keys that exist (an absent key needs
  nothing: no entry can match it)

Every call goes through the alias's :class:`~perfsuite.core.breaker.Breaker`:
after a failure the backend is skipped (:class:`BackendUnavailable`) for a
growing, capped interval with one probe, so an outage costs microseconds per
request instead of a socket timeout. The Redis backend talks to Redis through
clients of its own (redis-py and ``redis.asyncio``), with django-redis's key
function and serializer, bounded connect and read timeouts
(``CACHE_SOCKET_TIMEOUT`` where the alias sets none) and no client-side retries.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache

from perfsuite.core.breaker import Breaker
from perfsuite.core.conf import perf_settings

F = TypeVar("F", bound=Callable[..., Any])


class BackendUnavailable(Exception):
    """The backend failed recently; it is skipped until the breaker lets a probe through."""


def guarded(method: F) -> F:
    """Run a sync backend call through the breaker."""

    @functools.wraps(method)
    def wrapper(self: CacheBackend, *args: Any, **kwargs: Any) -> Any:
        if not self.breaker.allow():
            raise BackendUnavailable(self.alias)
        try:
            result = method(self, *args, **kwargs)
        except Exception:
            self.breaker.failure()
            raise
        self.breaker.success()
        return result

    return cast(F, wrapper)


def aguarded(method: F) -> F:
    """Run an async backend call through the breaker."""

    @functools.wraps(method)
    async def wrapper(self: CacheBackend, *args: Any, **kwargs: Any) -> Any:
        if not self.breaker.allow():
            raise BackendUnavailable(self.alias)
        try:
            result = await method(self, *args, **kwargs)
        except Exception:
            self.breaker.failure()
            raise
        self.breaker.success()
        return result

    return cast(F, wrapper)


def new_version() -> int:
    """A random starting version: an evicted version key then reads as a mismatch."""
    return secrets.randbits(62)


class CacheBackend:
    """What both backends share: the alias, its cache, its breaker and the calls."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.cache: BaseCache = caches[alias]
        self.breaker = Breaker(
            f"response cache {alias!r}",
            base=float(perf_settings.CACHE_BREAKER_BASE),
            cap=float(perf_settings.CACHE_BREAKER_MAX),
        )

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        raise NotImplementedError

    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def versions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raise NotImplementedError

    def bump(self, keys: list[str]) -> None:
        raise NotImplementedError

    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        raise NotImplementedError

    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        raise NotImplementedError

    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        raise NotImplementedError

    async def adelete(self, key: str) -> None:
        raise NotImplementedError

    async def aversions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raise NotImplementedError


class DjangoCacheBackend(CacheBackend):
    """Any Django cache through its own API; local memory is used without a thread hop."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.is_local = isinstance(self.cache, LocMemCache)

    @guarded
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self.cache.get_many(keys)

    @guarded
    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self.cache.set(key, value, timeout)

    @guarded
    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        return bool(self.cache.add(key, value, timeout))

    @guarded
    def delete(self, key: str) -> None:
        self.cache.delete(key)

    @guarded
    def versions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        current = self.cache.get_many(keys)
        for key in keys:
            if key in current:
                self.cache.touch(key, ttl)
            elif self.cache.add(key, new_version(), ttl):
                current[key] = self.cache.get(key)
            else:
                current.update(self.cache.get_many([key]))
        return current

    @guarded
    def bump(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.cache.incr(key)
            except ValueError:
                pass  # absent: nothing stored under it can match

    # -- async: local memory directly, other backends through Django's async API --
    @aguarded
    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        if self.is_local:
            return self.cache.get_many(keys)
        return await self.cache.aget_many(keys)

    @aguarded
    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        if self.is_local:
            self.cache.set(key, value, timeout)
        else:
            await self.cache.aset(key, value, timeout)

    @aguarded
    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        if self.is_local:
            return bool(self.cache.add(key, value, timeout))
        return bool(await self.cache.aadd(key, value, timeout))

    @aguarded
    async def adelete(self, key: str) -> None:
        if self.is_local:
            self.cache.delete(key)
        else:
            await self.cache.adelete(key)

    async def aversions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        if self.is_local:
            return self.versions(keys, ttl)
        from asgiref.sync import sync_to_async

        return await sync_to_async(self.versions)(keys, ttl)


_backends: dict[str, CacheBackend] = {}


def backend_for(alias: str) -> CacheBackend:
    """The backend of a cache alias (raises ``InvalidCacheBackendError`` for an unknown one)."""
    backend = _backends.get(alias)
    if backend is None:
        cache = caches[alias]
        if type(cache).__module__.startswith("django_redis"):
            from .redis_backend import RedisBackend

            backend = RedisBackend(alias)
        else:
            backend = DjangoCacheBackend(alias)
        _backends[alias] = backend
    return backend


def forget_backends() -> None:
    """Drop the backends (on a change of CACHES or PERFSUITE)."""
    _backends.clear()
