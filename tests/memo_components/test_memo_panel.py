"""The demo's /products/ from memoized cards, the Components panel's figures (from the
metrics store: every worker) for staff only, and the render-cache checks."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.memo_components import shared
from perfsuite.memo_components.lru import renders
from project.shop.components import ProductCard
from project.shop.models import Product

pytestmark = pytest.mark.django_db(databases="__all__")
User = get_user_model()


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    renders.clear()
    renders.counts.clear()
    metrics.registry.reset()
    yield
    renders.clear()


@pytest.fixture
def seeded(db_alias: str) -> str:
    call_command("seed_demo", products=60, users=2, posts=4, stdout=io.StringIO())
    return db_alias


def panel(client: Client) -> dict:
    data = client.get("/admin/performance/data.json?window=5m").json()
    return next(p for p in data["panels"] if p["id"] == "memo_components")["stats"]


def test_cards_are_shared_between_pages_of_different_users(seeded: str) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    anonymous = Client()
    first = anonymous.get("/products/").content.decode()
    assert first.count('<li class="card">') == 50
    assert ProductCard.get_cache_stats()["misses"] == 50
    # the signed-in page is cached apart from the anonymous one: its cards are hits
    assert staff.get("/products/").content.decode().count('<li class="card">') == 50
    stats = ProductCard.get_cache_stats()
    assert (stats["hits"], stats["misses"], stats["cache_size"]) == (50, 50, 50)
    figures = panel(staff)
    row = next(r for r in figures["components"] if r["component"] == "product_card")
    assert (row["hits"], row["misses"], row["entries"]) == (50, 50, 50)
    assert row["hit_rate"] == pytest.approx(0.5) and row["bytes"] > 50 * 100
    page = staff.get("/admin/performance/").content.decode()
    assert "Components" in page and "product_card" in page


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_an_edited_product_is_a_new_card_and_the_others_stay(seeded: str) -> None:
    client = Client()
    client.get("/products/")
    product = Product.objects.order_by("name", "pk").first()
    assert product is not None
    product.name = "A renamed <b>product</b>"  # still first by name
    product.save()  # the "products" tag drops the page; 49 cards come from the LRU
    html = client.get("/products/").content.decode()
    assert "A renamed &lt;b&gt;product&lt;/b&gt;" in html
    stats = ProductCard.get_cache_stats()
    assert (stats["hits"], stats["misses"]) == (49, 51)


def test_the_panel_is_for_staff_only(seeded: str) -> None:
    Client().get("/products/")
    assert Client().get("/admin/performance/data.json").status_code in (302, 403)
    user = Client()
    user.force_login(User.objects.create_user("plain", password="pw"))
    assert user.get("/admin/performance/data.json").status_code in (302, 403)


def test_render_cache_checks() -> None:
    def ids() -> set[str]:
        return {m.id for m in run_checks() if m.id and m.id.startswith("perfsuite.")}

    assert not {"perfsuite.E201", "perfsuite.W202"} & ids()
    with override_settings(PERFSUITE={"COMPONENT_CACHE_ALIAS": "nope"}):
        assert "perfsuite.E201" in ids()
        assert shared.backend() is None  # renders are kept per process meanwhile
    with override_settings(PERFSUITE={"STORE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}):
        assert "perfsuite.W202" in ids()
    redis_ok = {"STORE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}
    with override_settings(PERFSUITE={**redis_ok, "COMPONENT_CACHE_ALIAS": "default"}):
        assert "perfsuite.W202" not in ids()


def test_a_product_list_reads_other_workers_cards_in_one_round_trip(seeded: str) -> None:
    from django.conf import settings
    from django.core.cache import caches

    from project.shop.components import ProductList

    products = list(Product.objects.order_by("pk")[:20])
    shared_caches = {
        **settings.CACHES,
        "shared": {"BACKEND": settings.CACHES["default"]["BACKEND"]},
    }
    conf = {"STORE": "local", "COMPONENT_CACHE_ALIAS": "shared"}
    with override_settings(CACHES=shared_caches, PERFSUITE=conf):
        first = str(ProductList(products=products).render())  # "another worker"
        renders.clear()  # this worker has none of them
        calls: list[int] = []
        cache = caches["shared"]
        real = cache.get_many

        def counted(keys, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(len(keys))
            return real(keys, *args, **kwargs)

        cache.get_many = counted  # type: ignore[method-assign]
        try:
            again = str(ProductList(products=products).render())
        finally:
            del cache.get_many
    assert again == first
    assert len(calls) == 1, "one round trip for the whole list"
    stats = ProductCard.get_cache_stats()
    assert (stats["misses"], stats["shared_hits"]) == (20, 20)
