"""Through the demo site: admin edits invalidate, the command, checks, the panel."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from project.shop.models import Product

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # real commits: invalidation runs on commit
def test_editing_a_product_in_admin_drops_its_pages(client: Client) -> None:
    product = Product.objects.create(name="Teapot", price=Decimal("12.00"), description="Blue")
    url = f"/products/{product.pk}/"
    assert client.get(url).headers["X-Cache"] == "MISS"
    assert client.get(url).headers["X-Cache"] == "HIT"
    assert client.get("/products/").headers["X-Cache"] == "MISS"
    assert client.get("/products/").headers["X-Cache"] == "HIT"

    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    response = admin.post(
        f"/admin/shop/product/{product.pk}/change/",
        {"name": "Green teapot", "price": "13.00", "description": "Green"},
    )
    assert response.status_code == 302, response.content[:500]

    page = client.get(url)
    assert page.headers["X-Cache"] == "MISS"
    assert b"Green teapot" in page.content
    listing = client.get("/products/")
    assert listing.headers["X-Cache"] == "MISS"
    assert b"Green teapot" in listing.content


def test_cache_invalidate_command(client: Client) -> None:
    client.get("/products/")
    out = io.StringIO()
    call_command("cache_invalidate", "--tag", "products", stdout=out)
    assert "tag products" in out.getvalue()
    assert client.get("/products/").headers["X-Cache"] == "MISS"
    call_command("cache_invalidate", "--path", "/products/", stdout=io.StringIO())
    assert client.get("/products/").headers["X-Cache"] == "MISS"
    call_command("cache_invalidate", "--all", stdout=io.StringIO())
    assert client.get("/products/").headers["X-Cache"] == "MISS"
    with pytest.raises(CommandError, match="say what"):
        call_command("cache_invalidate")
    with pytest.raises(CommandError, match="starting with '/'"):
        call_command("cache_invalidate", "--path", "products")


def test_checks_for_alias_and_order() -> None:
    from django.conf import settings

    with override_settings(PERFSUITE={"CACHE_ALIAS": "nope"}):
        assert "perfsuite.E501" in [m.id for m in run_checks()]
    others = [m for m in settings.MIDDLEWARE if "ResponseCache" not in m]
    cache_mw = "perfsuite.cache.middleware.ResponseCacheMiddleware"
    session = others.index("django.contrib.sessions.middleware.SessionMiddleware")
    between = [*others[: session + 1], cache_mw, *others[session + 1 :]]
    with override_settings(MIDDLEWARE=between):
        assert "perfsuite.W501" in [m.id for m in run_checks()]
    front = [others[0], cache_mw, *others[1:]]  # before all of them: a valid choice
    with override_settings(MIDDLEWARE=front):
        assert "perfsuite.W501" not in [m.id for m in run_checks()]


def test_dashboard_shows_the_hit_ratio(client: Client) -> None:
    from perfsuite.core import metrics

    metrics.registry.reset()
    for _ in range(4):
        client.get("/products/")
    staff = Client()
    staff.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    data = staff.get("/admin/performance/data.json?window=5m").json()
    panel = next(p for p in data["panels"] if p["id"] == "cache")
    assert panel["stats"]["hits"] == 3
    assert panel["stats"]["misses"] == 1
    assert panel["stats"]["hit_ratio"] == 0.75
    page = staff.get("/admin/performance/")
    assert b"Response cache" in page.content
    assert b"75 %" in page.content
