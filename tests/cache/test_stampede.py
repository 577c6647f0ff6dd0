"""Many requests missing one key at once run the view once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client, override_settings

from tests.cache import urls
from tests.cache.conftest import CACHE_MIDDLEWARE, redis_caches

pytestmark = pytest.mark.slow


def _burst(count: int, barrier) -> list[tuple[int, str, bytes]]:  # type: ignore[no-untyped-def]
    results: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()

    def one() -> None:
        client = Client()
        barrier.wait()
        response = client.get("/slow/")
        with lock:
            results.append((response.status_code, response.headers["X-Cache"], response.content))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_concurrent_misses_render_once_locally(cache_backend: str) -> None:
    results = _burst(50, threading.Barrier(50))
    assert urls.RENDERS["slow"] == 1
    assert len(results) == 50
    assert {r[0] for r in results} == {200}
    assert len({r[2] for r in results}) == 1, "everyone got the one render"
    assert sorted(r[1] for r in results).count("MISS") == 1


def _child(url: str, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    with override_settings(
        CACHES=redis_caches(url), MIDDLEWARE=CACHE_MIDDLEWARE, ROOT_URLCONF="tests.cache.urls"
    ):
        results = _burst(25, barrier)
    queue.put((urls.RENDERS["slow"], results))


@pytest.mark.redis
def test_fifty_concurrent_misses_across_two_processes_render_once(redis_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(50)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(redis_url, barrier, queue)) for _ in range(2)]
    for proc in procs:
        proc.start()
    outcomes = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    renders = sum(r for r, _ in outcomes)
    responses = [resp for _, rs in outcomes for resp in rs]
    assert renders == 1
    assert len(responses) == 50
    assert {r[0] for r in responses} == {200}
    assert len({r[2] for r in responses}) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_render_that_finishes_between_lookup_and_lock_is_not_repeated(
    server: str, cache_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Request B misses; before B takes the lock, request A misses, renders, stores
    and unlocks. B gets the lock and must re-read, not render a second time."""
    from perfsuite.cache import backend as backend_module
    from perfsuite.cache.redis_backend import RedisBackend

    cls = RedisBackend if cache_backend == "redis" else backend_module.DjangoCacheBackend
    calls: list[str] = []
    if server == "wsgi":
        real_add = cls.add

        def add(self, key, value, timeout):  # type: ignore[no-untyped-def]
            calls.append(key)
            if len(calls) == 1:
                Client().get("/async-page/")  # request A, start to end
            return real_add(self, key, value, timeout)

        monkeypatch.setattr(cls, "add", add)
        response = Client().get("/async-page/")
    else:
        real_aadd = cls.aadd

        async def aadd(self, key, value, timeout):  # type: ignore[no-untyped-def]
            calls.append(key)
            if len(calls) == 1:
                await AsyncClient().get("/async-page/")
            return await real_aadd(self, key, value, timeout)

        monkeypatch.setattr(cls, "aadd", aadd)
        response = async_to_sync(AsyncClient().get)("/async-page/")
    assert len(calls) == 2
    assert urls.RENDERS["async_page"] == 1, "B rendered again after A had stored the page"
    assert "collapsed" in response.headers["Cache-Status"]


@pytest.mark.django_db
@pytest.mark.redis
def test_fifty_concurrent_asgi_misses_render_once(redis_url: str) -> None:
    async def burst(path: str) -> list[bytes]:
        client = AsyncClient()
        responses = await asyncio.gather(*(client.get(path) for _ in range(50)))
        assert {r.status_code for r in responses} == {200}
        return [r.content for r in responses]

    with override_settings(
        CACHES=redis_caches(redis_url), MIDDLEWARE=CACHE_MIDDLEWARE, ROOT_URLCONF="tests.cache.urls"
    ):
        for round_ in range(5):
            before = urls.RENDERS["slow_async"]
            contents = async_to_sync(burst)(f"/slow-async/?round={round_}")
            assert urls.RENDERS["slow_async"] - before == 1, round_
            assert len(set(contents)) == 1
