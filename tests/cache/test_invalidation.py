"""Invalidation through the demo: an admin edit drops its pages; the cache_invalidate command."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

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
