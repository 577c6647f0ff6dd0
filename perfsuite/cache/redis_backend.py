"""The response cache on a django-redis alias, through Redis clients of its own.

Built from the alias's ``LOCATION`` with django-redis's key function and
serializer (entries stay readable by django-redis), bounded connect and read
timeouts (the alias's ``SOCKET_CONNECT_TIMEOUT``/``SOCKET_TIMEOUT``, else
``CACHE_SOCKET_TIMEOUT``), no client-side retries (the breaker decides when to try
again), and ``redis.asyncio`` under ASGI so a hit never hops to a thread.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from perfsuite.core.conf import perf_settings

from .backend import CacheBackend, aguarded, guarded, new_version

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
    @guarded
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self._decoded(keys, self._client().redis.mget([self.make_key(k) for k in keys]))

    @guarded
    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self._client().redis.set(self.make_key(key), self.encode(value), px=self._px(timeout))

    @guarded
    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        raw = self.encode(value)
        return bool(
            self._client().redis.set(self.make_key(key), raw, px=self._px(timeout), nx=True)
        )

    @guarded
    def delete(self, key: str) -> None:
        self._client().redis.delete(self.make_key(key))

    @guarded
    def versions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raw_keys, args = self._version_args(keys, ttl)
        values = self._client().versions(keys=raw_keys, args=args)
        return self._decoded(keys, values)

    @guarded
    def bump(self, keys: list[str]) -> None:
        self._client().bump(keys=[self.make_key(k) for k in keys])

    # -- async ---------------------------------------------------------
    @aguarded
    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        values = await self._aclient().redis.mget([self.make_key(k) for k in keys])
        return self._decoded(keys, values)

    @aguarded
    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        await self._aclient().redis.set(
            self.make_key(key), self.encode(value), px=self._px(timeout)
        )

    @aguarded
    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        client = self._aclient().redis
        raw = self.encode(value)
        return bool(await client.set(self.make_key(key), raw, px=self._px(timeout), nx=True))

    @aguarded
    async def adelete(self, key: str) -> None:
        await self._aclient().redis.delete(self.make_key(key))

    @aguarded
    async def aversions(self, keys: list[str], ttl: int) -> dict[str, Any]:
        raw_keys, args = self._version_args(keys, ttl)
        values = await self._aclient().versions(keys=raw_keys, args=args)
        return self._decoded(keys, values)
