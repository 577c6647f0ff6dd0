"""Run a task's effect once per key, however often its message is delivered.

``once(key)`` marks the key ``started`` (for as long as a task may run: the hard time
limit) before the effect, and ``done`` (for ``TASK_IDEMPOTENCY_TTL``) after it:

- a second delivery of a finished task (a redelivery after the worker died between
  the effect and the acknowledgement, a double submission) sees ``done``: ``Done``;
- a delivery while another attempt still runs sees ``started``: ``Running`` (the task
  retries later). When the attempt died, the next delivery runs the effect: at once
  when its process (named in the mark, :mod:`.owners`) is seen dead on this host,
  else once the mark expired;
- an effect that raises removes the mark, so a retry runs it again.

The marks live in a cache every worker shares (django-redis: ``SET NX`` with a TTL)
or, when the alias is per process (local memory), in the database table of
:class:`.models.IdempotencyKey` (a unique key).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import IntegrityError, transaction
from django.utils import timezone

from perfsuite.core.conf import perf_settings

from . import owners

PREFIX = "perfsuite:task:once:"
DONE = "done"
#: a running attempt's mark: this prefix and its process (:mod:`.owners`)
STARTED = "started|"


class Done(Exception):
    """The effect of this key already happened."""


class Running(Exception):
    """Another attempt with this key is running (or died less than a time limit ago)."""


def _cache():  # type: ignore[no-untyped-def]
    alias = perf_settings.as_dict()["TASK_IDEMPOTENCY_ALIAS"] or "default"
    cache = caches[alias]
    return None if isinstance(cache, LocMemCache) else cache


def _ttls() -> tuple[int, int]:
    conf = perf_settings.as_dict()
    return int(conf["TASK_TIME_LIMIT"]) + 30, int(conf["TASK_IDEMPOTENCY_TTL"])


@contextmanager
def once(key: str) -> Iterator[None]:
    running_ttl, done_ttl = _ttls()
    cache = _cache()
    if cache is not None:
        name = PREFIX + key
        _claim_in_cache(cache, name, key, running_ttl)
        try:
            yield
        except BaseException:
            cache.delete(name)
            raise
        cache.set(name, DONE, done_ttl)
        return
    _claim_in_db(key, running_ttl)
    try:
        yield
    except BaseException:
        _release_in_db(key)
        raise
    _finish_in_db(key, done_ttl)


def _claim_in_cache(cache, name: str, key: str, ttl: int) -> None:  # type: ignore[no-untyped-def]
    mark = STARTED + owners.me()
    if cache.add(name, mark, ttl):  # SET NX: the one round trip of a first delivery
        return
    found = cache.get(name)
    if found == DONE:
        raise Done(key)
    if found is None and cache.add(name, mark, ttl):  # it expired meanwhile
        return
    if isinstance(found, str) and found.startswith(STARTED):
        dead = found[len(STARTED) :]
        # the attempt's process died here: one delivery (the takeover's winner) runs now
        if owners.is_dead(dead) and cache.add(f"{name}:takeover:{dead}", 1, ttl):
            cache.set(name, mark, ttl)
            return
    raise Running(key)


def _claim_in_db(key: str, ttl: int) -> None:
    from .models import IdempotencyKey

    now = timezone.now()
    mine = owners.me()
    with transaction.atomic():
        found = IdempotencyKey.objects.select_for_update().filter(key=key).first()
        if found is not None:
            if found.state == DONE and found.expires_at > now:
                raise Done(key)
            running = found.state == "started" and found.expires_at > now
            if running and not owners.is_dead(found.owner):
                raise Running(key)
            found.state, found.owner = "started", mine
            found.expires_at = now + timedelta(seconds=ttl)
            found.save(update_fields=["state", "owner", "expires_at"])
            return
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    key=key, state="started", owner=mine, expires_at=now + timedelta(seconds=ttl)
                )
        except IntegrityError:  # another worker claimed it between our read and insert
            raise Running(key) from None


def _release_in_db(key: str) -> None:
    from .models import IdempotencyKey

    IdempotencyKey.objects.filter(key=key, state="started").delete()


def _finish_in_db(key: str, ttl: int) -> None:
    from .models import IdempotencyKey

    expires = timezone.now() + timedelta(seconds=ttl)
    IdempotencyKey.objects.filter(key=key).update(state="done", expires_at=expires)
