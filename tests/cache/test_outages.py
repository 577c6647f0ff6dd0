"""A hung or stopped Redis: bounded waits, a breaker instead of a timeout per request,
invalidation that neither fails a save nor lets a stale page back; every key with a TTL."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.db import transaction
from django.test import AsyncClient, Client, override_settings

from perfsuite.core import metrics
from perfsuite.core.metrics import Registry
from perfsuite.core.sketch import Mapping
from perfsuite.core.stores.redis import RedisStore
from project.shop.models import Product
from tests.cache import urls
from tests.cache.conftest import CACHE_MIDDLEWARE, redis_caches
from tests.services import RedisServer

pytestmark = [pytest.mark.redis]

#: CACHES exactly as docs/cache.md shows them: no socket options at all
AS_DOCUMENTED = "django_redis.cache.RedisCache"


def caches_for(url: str) -> dict[str, Any]:
    return {"default": {"BACKEND": AS_DOCUMENTED, "LOCATION": url}}


def get(server: str, path: str) -> Any:
    if server == "wsgi":
        return Client().get(path)
    return async_to_sync(AsyncClient().get)(path)


def counts() -> tuple[float, float]:
    snap = metrics.registry.snapshot()
    return (
        snap.counter_total("perfsuite_cache_backend_errors"),
        snap.counter_total("perfsuite_cache_backend_skipped"),
    )


@pytest.mark.django_db
@pytest.mark.timeout(60)
@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_hung_redis_costs_one_bounded_wait_then_is_skipped(
    server: str, own_redis: RedisServer
) -> None:
    conf = {"STORE": "local", "CACHE_SOCKET_TIMEOUT": 0.3, "CACHE_BREAKER_BASE": 30.0}
    with override_settings(
        CACHES=caches_for(own_redis.url),
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE=conf,
    ):
        assert get(server, "/page/").headers["X-Cache"] == "MISS"
        own_redis.pause()
        try:
            for _ in range(20):
                response = get(server, "/page/")
                assert response.status_code == 200
                assert response.headers["X-Cache"] == "BYPASS"
        finally:
            own_redis.resume()
        errors, skipped = counts()
        # one request waited for the (bounded) timeout; the breaker skipped the rest
        assert errors == 1 and skipped == 19
        assert urls.RENDERS["page"] == 21


@pytest.mark.django_db
@pytest.mark.timeout(60)
def test_the_breaker_probes_and_picks_up_recovery(own_redis: RedisServer) -> None:
    conf = {
        "STORE": "local",
        "CACHE_SOCKET_TIMEOUT": 0.2,
        "CACHE_BREAKER_BASE": 0.2,
        "CACHE_BREAKER_MAX": 0.4,
    }
    with override_settings(
        CACHES=caches_for(own_redis.url),
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE=conf,
    ):
        client = Client()
        client.get("/page/")
        own_redis.pause()
        try:
            for _ in range(3):
                assert client.get("/page/").headers["X-Cache"] == "BYPASS"
        finally:
            own_redis.resume()
        deadline = time.monotonic() + 10
        while client.get("/page/").headers["X-Cache"] != "HIT":
            assert time.monotonic() < deadline, "caching never resumed"
            time.sleep(0.05)


@pytest.mark.timeout(60)
def test_the_metrics_flusher_obeys_the_breaker(own_redis: RedisServer) -> None:
    store = RedisStore(Mapping(0.01), own_redis.url, prefix="t", socket_timeout=0.2)
    registry = Registry(store=store, autoflush=False)
    writes = []
    real_write = store.write

    def counting_write(batch: Any) -> None:
        writes.append(batch.seq)
        real_write(batch)

    store.write = counting_write  # type: ignore[method-assign]
    counter = registry.counter("hung_hits")
    own_redis.pause()
    try:
        for _ in range(10):
            counter.inc()
            assert registry.flush() is False
    finally:
        own_redis.resume()
    assert len(writes) == 1, "every flush waited on the hung Redis"
    deadline = time.monotonic() + 10
    while not registry.flush():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert registry.snapshot("all").counter_total("hung_hits") == 10


@pytest.mark.django_db(transaction=True)
def test_invalidation_waits_for_the_commit(client: Client) -> None:
    product = Product.objects.create(name="Teapot", price=Decimal("12.00"), description="Blue")
    url = f"/products/{product.pk}/"
    client.get(url)
    assert client.get(url).headers["X-Cache"] == "HIT"
    with transaction.atomic():
        product.name = "Kettle"
        product.save()
        # not committed: nothing is invalidated yet (another request would still
        # read the old row, and must not store it under a new version)
        assert client.get(url).headers["X-Cache"] == "HIT"
    page = client.get(url)
    assert page.headers["X-Cache"] == "MISS" and b"Kettle" in page.content
    client.get(url)
    with transaction.atomic():
        product.name = "Rolled back"
        product.save()
        transaction.set_rollback(True)
    assert client.get(url).headers["X-Cache"] == "HIT", "a rollback invalidated"


@pytest.mark.django_db
def test_a_page_invalidated_while_it_renders_is_not_stored(
    cache_backend: str, client: Client
) -> None:
    from perfsuite.cache import invalidate_path

    client.get("/racy/")  # creates the version keys
    client.get("/page/")
    urls.SLOW_RENDER_HOOK.append(lambda: invalidate_path("/racy/"))
    try:
        invalidate_path("/racy/")
        response = client.get("/racy/")  # a commit lands between lookup and store
        assert response.headers["Cache-Status"].endswith("detail=invalidated")
    finally:
        urls.SLOW_RENDER_HOOK.clear()
    assert client.get("/racy/").headers["X-Cache"] == "MISS"
    assert client.get("/racy/").headers["X-Cache"] == "HIT"


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_saving_while_redis_is_down_saves_and_no_stale_page_comes_back(
    own_redis: RedisServer,
) -> None:
    conf = {"STORE": "local", "CACHE_BREAKER_BASE": 0.1, "CACHE_BREAKER_MAX": 0.2}
    with override_settings(CACHES=caches_for(own_redis.url), PERFSUITE=conf):
        product = Product.objects.create(name="Teapot", price=Decimal("12.00"), description="")
        url = f"/products/{product.pk}/"
        visitor = Client()
        visitor.get(url)
        assert visitor.get(url).headers["X-Cache"] == "HIT"
        admin = Client()
        admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
        own_redis.stop()
        response = admin.post(
            f"/admin/shop/product/{product.pk}/change/",
            {"name": "Green teapot", "price": "13.00", "description": "Green"},
        )
        assert response.status_code == 302, "the admin edit failed with Redis down"
        product.refresh_from_db()
        assert product.name == "Green teapot"
        snap = metrics.registry.snapshot()
        assert snap.counter_total("perfsuite_cache_invalidation_failures") >= 1
        own_redis.start()  # the old page is still in Redis (append-only file)
        deadline = time.monotonic() + 10
        while True:
            page = visitor.get(url)
            assert b"Teapot</h1>" not in page.content, "the stale page came back"
            if page.headers["X-Cache"] != "BYPASS":
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert b"Green teapot" in page.content


@pytest.mark.django_db
def test_every_key_written_has_a_ttl(redis_url: str) -> None:
    from perfsuite.cache import invalidate_tags

    conf = {"STORE": "redis", "REDIS_URL": redis_url}
    with override_settings(
        CACHES=caches_for(redis_url),
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE=conf,
    ):
        client = Client()
        for n in range(300):
            client.get(f"/nowhere-{n}/")  # distinct 404 paths
        client.get("/decorated/")
        client.get("/page/?a=1")
        invalidate_tags("decorated", "never-seen")
        metrics.registry.flush()
        metrics.registry.snapshot("5m")
        raw = redis.Redis.from_url(redis_url)
        keys = list(raw.scan_iter(count=1000))
        assert len(keys) > 600
        forever = [k for k in keys if raw.ttl(k) == -1]
        assert forever == [], forever[:10]
        tag_ttls = [raw.ttl(k) for k in keys if b":tag:" in k]
        # a 404's path tag lives as long as its entry (60 s + the stale window)
        assert sum(1 for ttl in tag_ttls if ttl <= 91) >= 300
        assert max(tag_ttls) <= 331
        raw.close()
    metrics.registry.configure()


def test_an_idle_process_writes_nothing(redis_url: str) -> None:
    store = RedisStore(Mapping(0.01), redis_url, prefix="idle", socket_timeout=0.3)
    registry = Registry(store=store, autoflush=False)
    registry.counter("busy").inc()
    registry.gauge("inflight").set(1)
    assert registry.flush()
    raw = redis.Redis.from_url(redis_url)
    before = raw.info("commandstats")
    for _ in range(5):
        assert registry.flush()
    after = raw.info("commandstats")
    assert after.get("cmdstat_evalsha") == before.get("cmdstat_evalsha")
    assert after.get("cmdstat_eval") == before.get("cmdstat_eval")
    assert len(list(raw.scan_iter("idle:applied:*"))) == 1, "one applied-batch key per writer"
    raw.close()


def wait_for_header(client: Client, path: str, value: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get(path).headers["X-Cache"] == value:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db
def test_redis_outage_serves_uncached_then_resumes(
    own_redis: RedisServer, caplog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfsuite.cache import steps

    steps.warnings.reset()  # no warning from an earlier test
    with override_settings(
        CACHES=redis_caches(own_redis.url),
        MIDDLEWARE=CACHE_MIDDLEWARE,
        ROOT_URLCONF="tests.cache.urls",
        PERFSUITE={"STORE": "local", "CACHE_BREAKER_BASE": 0.2, "CACHE_BREAKER_MAX": 0.4},
    ):
        client = Client()
        assert client.get("/page/").headers["X-Cache"] == "MISS"
        assert client.get("/page/").headers["X-Cache"] == "HIT"
        own_redis.stop()
        for _ in range(3):
            response = client.get("/page/")
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "BYPASS"
            assert "detail=backend-error" in response.headers["Cache-Status"]
        warnings = [r for r in caplog.records if "backend failed" in r.getMessage()]
        assert len(warnings) == 1, "warned once per interval, not per request"
        snap = metrics.registry.snapshot()
        errors = snap.counter_total("perfsuite_cache_backend_errors")
        skipped = snap.counter_total("perfsuite_cache_backend_skipped")
        assert errors >= 1 and errors + skipped == 3
        own_redis.start()
        # caching resumes once the breaker lets a probe through: the entry stored
        # before the outage is served again...
        assert wait_for_header(client, "/page/", "HIT")
        # ...and new pages are stored
        assert client.get("/whoami/").headers["X-Cache"] == "MISS"
        assert client.get("/whoami/").headers["X-Cache"] == "HIT"
