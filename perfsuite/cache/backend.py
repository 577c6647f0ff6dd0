"""A thin layer over one Django cache alias, sync and (for django-redis) truly async.

Every call may raise; :mod:`perfsuite.cache.core` treats any error as "backend
down" and serves the request uncached. Under ASGI, django-redis backends are read
and written through ``redis.asyncio`` with the backend's own key function and
serializer, so a hit never hops to a thread; other backends use Django's async
cache API.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import BaseCache, caches
from django.core.cache.backends.locmem import LocMemCache


class CacheBackend:
    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.cache: BaseCache = caches[alias]
        module = type(self.cache).__module__
        self.is_redis = module.startswith("django_redis")
        self.is_local = isinstance(self.cache, LocMemCache)
        self._async_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    # -- sync ------------------------------------------------------------
    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self.cache.get_many(keys)

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self.cache.set(key, value, timeout)

    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        return bool(self.cache.add(key, value, timeout))

    def delete(self, key: str) -> None:
        self.cache.delete(key)

    def bump(self, key: str) -> None:
        """Increment a version counter, creating it when missing (atomic where the backend is)."""
        try:
            self.cache.incr(key)
        except ValueError:
            if not self.cache.add(key, 1, None):
                self.cache.incr(key)

    # -- async -----------------------------------------------------------
    def _redis(self) -> Any:
        """A redis.asyncio client for the running loop, built from the alias's settings."""
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            import redis.asyncio

            params = getattr(self.cache, "_params", None) or {}
            options = params.get("OPTIONS") or {}
            location = self.cache._server  # type: ignore[attr-defined]
            if isinstance(location, str):
                location = location.split(",")
            url = location[0].strip()
            timeout = options.get("SOCKET_TIMEOUT")
            connect_timeout = options.get("SOCKET_CONNECT_TIMEOUT", timeout)
            client = redis.asyncio.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=connect_timeout
            )
            self._async_clients[loop] = client
        return client

    async def aget_many(self, keys: list[str]) -> dict[str, Any]:
        if self.is_local:
            return self.cache.get_many(keys)  # memory only: no I/O, no thread hop
        if self.is_redis:
            raw_keys = [self.cache.make_key(k) for k in keys]
            values = await self._redis().mget(raw_keys)
            decode = self.cache.client.decode  # type: ignore[attr-defined]
            return {k: decode(v) for k, v in zip(keys, values, strict=True) if v is not None}
        return await self.cache.aget_many(keys)

    async def aset(self, key: str, value: Any, timeout: float | None) -> None:
        if self.is_local:
            self.cache.set(key, value, timeout)
        elif self.is_redis:
            raw = self.cache.client.encode(value)  # type: ignore[attr-defined]
            px = None if timeout is None else max(1, int(timeout * 1000))
            await self._redis().set(self.cache.make_key(key), raw, px=px)
        else:
            await self.cache.aset(key, value, timeout)

    async def aadd(self, key: str, value: Any, timeout: float | None) -> bool:
        if self.is_local:
            return bool(self.cache.add(key, value, timeout))
        if self.is_redis:
            raw = self.cache.client.encode(value)  # type: ignore[attr-defined]
            px = None if timeout is None else max(1, int(timeout * 1000))
            return bool(await self._redis().set(self.cache.make_key(key), raw, px=px, nx=True))
        return bool(await self.cache.aadd(key, value, timeout))

    async def adelete(self, key: str) -> None:
        if self.is_local:
            self.cache.delete(key)
        elif self.is_redis:
            await self._redis().delete(self.cache.make_key(key))
        else:
            await self.cache.adelete(key)

    async def abump(self, key: str) -> None:
        await sync_to_async(self.bump)(key)
