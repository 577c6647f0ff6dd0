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

import asyncio
import functools
import secrets
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache

from perfsuite.core.breaker import Breaker
from perfsuite.core.conf import perf_settings

T = TypeVar("T")

# Keep each version key alive for at least ARGV[1] seconds (never shorten it);
# create a missing one with the candidate value ARGV[i + 1]; return the values.
_VERSIONS_LUA = """
local ttl = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'NX')
  local left = redis.call('TTL', key)
  if left < ttl then
    redis.call('EXPIRE', key, ttl)
  end
  out[i] = redis.call('GET', key)
end
return out
"""
_BUMP_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCR', key)
  end
end
return 1
"""


class BackendUnavailable(Exception):
    """The backend failed recently; it is skipped until the breaker lets a probe through."""


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: CacheBackend, *args: Any) -> T:
        if not self.breaker.allow():
            raise BackendUnavailable(self.alias)
        try:
            result = method(self, *args)
        except Exception:
            self.breaker.failure()
            raise
        self.breaker.success()
        return result

    return wrapper


def _aguarded(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def wrapper(self: CacheBackend, *args: Any) -> T:
        if not self.breaker.allow():
            raise BackendUnavailable(self.alias)
        try:
            result = await method(self, *args)
        except Exception:
            self.breaker.failure()
            raise
        self.breaker.success()
        return result

    return wrapper


def new_version() -> int:
    """A random starting version: an evicted version key then reads as a mismatch."""
    return secrets.randbits(62)


class CacheBackend:
    """What both backends share: the alias, its cache and its breaker."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.cache: BaseCache = caches[alias]
        self.breaker = Breaker(
            f"response cache {alias!r}",
            base=float(perf_settings.CACHE_BREAKER_BASE),
            cap=float(perf_settings.CACHE_BREAKER_MAX),
        )


class DjangoCacheBackend(CacheBackend):
    """Any Django cache through its own API; local memory is used without a thread hop."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.is_local = isinstance(self.cache, LocMemCache)

    @_guarded
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self.cache.get_many(keys)

    @_guarded
    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self.cache.set(key, value, timeout)

    @_guarded
    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        return bool(self.cache.add(key, value, timeout))

    @_guarded
    def delete(self, key: str) -> None:
        self.cache.delete(key)

    @_guarded
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

    @_guarded
    def bump(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.cache.incr(key)
            except ValueError:
                pass  # absent: nothing stored under it can match

    # -- async: local memory directly, other backends through Django's async API --
    @_aguarded
    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        if self.is_local:
            return self.cache.get_many(keys)
        return await self.cache.aget_many(keys)

    @_aguarded
    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        if self.is_local:
            self.cache.set(key, value, timeout)
        else:
            await self.cache.aset(key, value, timeout)

    @_aguarded
    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        if self.is_local:
            return bool(self.cache.add(key, value, timeout))
        return bool(await self.cache.aadd(key, value, timeout))

    @_aguarded
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


class _Scripted:
    """A redis-py (or redis.asyncio) client with the two scripts registered on it."""

    __slots__ = ("bump", "redis", "versions")

    def __init__(self, client: Any) -> None:
        self.redis = client
        self.versions = client.register_script(_VERSIONS_LUA)
        self.bump = client.register_script(_BUMP_LUA)


class RedisBackend(CacheBackend):
    """A django-redis alias, read and written through clients with bounded waits."""

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        params = getattr(self.cache, "_params", None) or {}
        options = params.get("OPTIONS") or {}
        location = self.cache._server  # type: ignore[attr-defined]
        if isinstance(location, str):
            location = location.split(",")
        self.url: str = location[0].strip()
        default = float(perf_settings.CACHE_SOCKET_TIMEOUT)
        timeout = options.get("SOCKET_TIMEOUT") or default
        self.client_kwargs: dict[str, Any] = {
            **(options.get("CONNECTION_POOL_KWARGS") or {}),
            "socket_timeout": timeout,
            "socket_connect_timeout": options.get("SOCKET_CONNECT_TIMEOUT") or timeout,
        }
        if options.get("PASSWORD"):
            self.client_kwargs["password"] = options["PASSWORD"]
        self._sync: _Scripted | None = None
        self._async: weakref.WeakKeyDictionary[Any, _Scripted] = weakref.WeakKeyDictionary()
        # django-redis's own key function and serializer: entries stay readable by it
        self.make_key = self.cache.make_key
        self.encode = self.cache.client.encode  # type: ignore[attr-defined]
        self.decode = self.cache.client.decode  # type: ignore[attr-defined]

    def _client(self) -> _Scripted:
        scripted = self._sync
        if scripted is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            client = redis.Redis.from_url(
                self.url, retry=Retry(NoBackoff(), 0), **self.client_kwargs
            )
            scripted = self._sync = _Scripted(client)
        return scripted

    def _aclient(self) -> _Scripted:
        """A redis.asyncio client for the running loop (a client is bound to its loop)."""
        loop = asyncio.get_running_loop()
        scripted = self._async.get(loop)
        if scripted is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = redis.asyncio.Redis.from_url(
                self.url, retry=Retry(NoBackoff(), 0), **self.client_kwargs
            )
            scripted = self._async[loop] = _Scripted(client)
        return scripted

    # -- encoding ------------------------------------------------------
    def _decoded(self, keys: list[str], values: list[Any]) -> dict[str, Any]:
        return {k: self.decode(v) for k, v in zip(keys, values, strict=True) if v is not None}

    @staticmethod
    def _px(timeout: float | None) -> int | None:
        return None if timeout is None else max(1, int(timeout * 1000))

    def _version_args(self, keys: list[str], ttl: int) -> tuple[list[str], list[Any]]:
        return [self.make_key(k) for k in keys], [max(1, int(ttl))] + [new_version() for _ in keys]

    # -- sync ----------------------------------------------------------
    @_guarded
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self._decoded(keys, self._client().redis.mget([self.make_key(k) for k in keys]))

    @_guarded
    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self._client().redis.set(self.make_key(key), self.encode(value), px=self._px(timeout))

    @_guarded
    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        raw = self.encode(value)
        return bool(
            self._client().redis.set(self.make_key(key), raw, px=self._px(timeout), nx=True)
        )

    @_guarded
    def delete(self, key: str) -> None:
        self._client().redis.delete(self.make_key(key))

    @_guarded
    def versions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raw_keys, args = self._version_args(keys, ttl)
        values = self._client().versions(keys=raw_keys, args=args)
        return self._decoded(keys, values)

    @_guarded
    def bump(self, keys: list[str]) -> None:
        self._client().bump(keys=[self.make_key(k) for k in keys])

    # -- async ---------------------------------------------------------
    @_aguarded
    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        values = await self._aclient().redis.mget([self.make_key(k) for k in keys])
        return self._decoded(keys, values)

    @_aguarded
    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        await self._aclient().redis.set(
            self.make_key(key), self.encode(value), px=self._px(timeout)
        )

    @_aguarded
    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        client = self._aclient().redis
        raw = self.encode(value)
        return bool(await client.set(self.make_key(key), raw, px=self._px(timeout), nx=True))

    @_aguarded
    async def adelete(self, key: str) -> None:
        await self._aclient().redis.delete(self.make_key(key))

    @_aguarded
    async def aversions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raw_keys, args = self._version_args(keys, ttl)
        values = await self._aclient().versions(keys=raw_keys, args=args)
        return self._decoded(keys, values)


_backends: dict[str, CacheBackend] = {}


def backend_for(alias: str) -> CacheBackend:
    """The backend of a cache alias (raises ``InvalidCacheBackendError`` for an unknown one)."""
    backend = _backends.get(alias)
    if backend is None:
        cache = caches[alias]
        if type(cache).__module__.startswith("django_redis"):
            backend = RedisBackend(alias)
        else:
            backend = DjangoCacheBackend(alias)
        _backends[alias] = backend
    return backend


def forget_backends() -> None:
    """Drop the backends (on a change of CACHES or PERFSUITE)."""
    _backends.clear()
