"""The ``redis`` store: every process and machine adds into one view.

Each process's flusher sends its deltas as one Lua script call (one round trip,
atomic, applied at most once per writer and batch number, so a retry after a lost reply never
double-counts). Layout under ``KEY_PREFIX`` (default ``perfsuite``):

- ``{p}:series``        hash, series id -> JSON (kind, name, labels)
- ``{p}:t``             totals since reset
- ``{p}:m:{minute}``    per-minute buckets, TTL ``BUCKET_TTL``
- ``{p}:h:{hour}``      per-hour buckets, TTL ``BUCKET_TTL`` + 1 h (the 24 h window)
- ``{p}:g``             gauges, one field per series and process, with a timestamp
- ``{p}:meta``          reset time
- ``{p}:applied:{writer}`` the last batch number applied for one process (TTL 1 day)

Every key has a TTL: buckets ``BUCKET_TTL``; the series, totals, gauges and meta
hashes 7 days (or ``BUCKET_TTL`` if longer) from the last write, so a store no
process writes to any more empties itself. An idle process writes nothing.

Fields of a bucket hash are ``{sid}|c`` (counter), ``{sid}|n``, ``|s``, ``|lo``,
``|hi`` and one ``{sid}|p{k}`` / ``|n{k}`` / ``|z`` per histogram bucket.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

from ..conf import perf_settings
from ..series import Batch, MinuteDeltas, SeriesId
from ..sketch import Mapping
from .base import (
    Point,
    Snapshot,
    Store,
    deltas_from_fields,
    minute_now,
    process_name,
    window_seconds,
)

_LUA = resources.files("perfsuite.core.stores").joinpath("flush.lua").read_text()


def _num(value: float) -> str:
    return repr(float(value))


def _decoded(raw: dict[bytes, bytes]) -> Iterator[tuple[str, bytes]]:
    return ((field.decode(), value) for field, value in raw.items())


class RedisStore(Store):
    def __init__(
        self,
        mapping: Mapping,
        url: str,
        *,
        prefix: str = "perfsuite",
        bucket_ttl: int = 86400,
        socket_timeout: float = 0.5,
        gauge_stale_after: float = 120,
    ) -> None:
        super().__init__(mapping)
        self.url = url
        self.prefix = prefix
        self.bucket_ttl = int(bucket_ttl)
        self.socket_timeout = socket_timeout
        self.gauge_stale_after = gauge_stale_after
        self._client: Any = None
        self._script: Any = None
        self._lock = threading.Lock()
        self._name_process()

    def _name_process(self) -> None:
        self.process = process_name()
        #: this store instance in this process: the key of its last applied batch number
        self.writer = f"{self.process}:{secrets.token_hex(4)}"

    @classmethod
    def from_settings(cls, mapping: Mapping) -> RedisStore:
        url = perf_settings.REDIS_URL
        if not url:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured("PERFSUITE['STORE'] is 'redis' but REDIS_URL is not set")
        return cls(
            mapping,
            url,
            prefix=perf_settings.KEY_PREFIX,
            bucket_ttl=perf_settings.BUCKET_TTL,
            socket_timeout=float(perf_settings.REDIS_SOCKET_TIMEOUT),
            gauge_stale_after=float(perf_settings.GAUGE_STALE_AFTER),
        )

    # -- connection ----------------------------------------------------
    @property
    def client(self) -> Any:
        client = self._client
        if client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            with self._lock:
                client = self._client
                if client is None:
                    client = redis.Redis.from_url(
                        self.url,
                        socket_timeout=self.socket_timeout,
                        socket_connect_timeout=self.socket_timeout,
                        retry=Retry(NoBackoff(), 0),
                        health_check_interval=30,
                    )
                    self._script = client.register_script(_LUA)
                    self._client = client
        return client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:
                pass

    def after_fork(self) -> None:
        self._client = None
        self._name_process()

    # -- writing -------------------------------------------------------
    def _payload(self, batch: Batch) -> str:
        series: dict[str, str] = {}

        def sid_of(key: SeriesId) -> str:
            # Always sent (HSETNX): another process may have reset the store.
            sid = key.sid
            if sid not in series:
                series[sid] = key.encode()
            return sid

        chunks = []
        for minute in sorted(batch.minutes):
            deltas = batch.minutes[minute]
            counters = {sid_of(k): _num(v) for k, v in deltas.counters.items()}
            hists = {
                sid_of(k): {
                    "n": h.count,
                    "s": _num(h.sum),
                    "lo": _num(h.min),
                    "hi": _num(h.max),
                    "b": h.bucket_fields(),
                }
                for k, h in deltas.histograms.items()
                if h.count
            }
            chunks.append([minute, {"c": counters or {}, "h": hists or {}}])
        gauges = {
            f"{sid_of(k)}|{self.process}": json.dumps([value, ts])
            for k, (value, ts) in batch.gauges.items()
        }
        payload = {
            "writer": batch.writer or self.writer,
            "seq": batch.seq,
            "ttl": self.bucket_ttl,
            "keep": max(self.bucket_ttl, 7 * 86400),
            "series": series,
            "chunks": chunks,
            "gauges": gauges,
        }
        return json.dumps(payload, separators=(",", ":"))

    def write(self, batch: Batch) -> None:
        client = self.client
        self._script(keys=[self.prefix], args=[self._payload(batch)], client=client)

    # -- reading -------------------------------------------------------
    def snapshot(self, window: str = "all", *, points: bool = False) -> Snapshot:
        seconds = window_seconds(window)
        now = time.time()
        now_minute = minute_now(now)
        p = self.prefix
        if seconds is None:
            window_keys = [f"{p}:t"]
        elif seconds <= 3600:
            window_keys = [
                f"{p}:m:{m}" for m in range(now_minute - seconds // 60 + 1, now_minute + 1)
            ]
        else:
            hour = now_minute // 60
            window_keys = [f"{p}:h:{h}" for h in range(hour - seconds // 3600 + 1, hour + 1)]
        point_units: list[tuple[int, str]] = []
        if points:
            if seconds is not None and seconds > 3600:
                hour = now_minute // 60
                point_units = [(h * 3600, f"{p}:h:{h}") for h in range(hour - 23, hour + 1)]
            else:
                point_units = [
                    (m * 60, f"{p}:m:{m}") for m in range(now_minute - 59, now_minute + 1)
                ]
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(f"{p}:series")
        pipe.hgetall(f"{p}:g")
        pipe.hgetall(f"{p}:meta")
        for key in window_keys:
            pipe.hgetall(key)
        for _start, key in point_units:
            pipe.hgetall(key)
        results = pipe.execute()
        series = {k.decode(): SeriesId.decode(v) for k, v in results[0].items()}
        snap = Snapshot(window=window, mapping=self.mapping, generated_at=now)
        merged = MinuteDeltas()
        offset = 3
        for raw in results[offset : offset + len(window_keys)]:
            merged.merge(deltas_from_fields(_decoded(raw), series))
        snap.counters = merged.counters
        snap.histograms = merged.histograms
        offset += len(window_keys)
        for (start, _key), raw in zip(point_units, results[offset:], strict=True):
            deltas = deltas_from_fields(_decoded(raw), series)
            snap.points.append(
                Point(start=start, counters=deltas.counters, histograms=deltas.histograms)
            )
        processes: set[str] = set()
        stale: list[bytes] = []
        for field_b, value_b in results[1].items():
            sid, _, process = field_b.decode().partition("|")
            value, ts = json.loads(value_b)
            if now - ts > self.gauge_stale_after:
                stale.append(field_b)
                continue
            gauge = series.get(sid)
            if gauge is not None:
                snap.gauges.setdefault(gauge, {})[process] = float(value)
                processes.add(process)
        if stale:
            self.client.hdel(f"{p}:g", *stale)
        meta = {k.decode(): v.decode() for k, v in results[2].items()}
        snap.meta = {
            "store": "redis",
            "processes": len(processes),
            "reset_at": float(meta["reset_at"]) if "reset_at" in meta else None,
        }
        return snap

    def reset(self) -> None:
        client = self.client
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.unlink(*keys[start : start + 500])
        client.hset(f"{self.prefix}:meta", "reset_at", repr(time.time()))
        client.expire(f"{self.prefix}:meta", max(self.bucket_ttl, 7 * 86400))
