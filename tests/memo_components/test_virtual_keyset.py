"""QuerySet lists read by keyset over a sparse key index, on SQLite and PostgreSQL:
every window equals the same slice of the ordered QuerySet, a deep window skips fewer
rows than the stride, and the index follows the table when its count changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connections
from django.test import AsyncClient, Client, override_settings
from django.test.utils import CaptureQueriesContext

from perfsuite.memo_components import virtual_keyset
from perfsuite.memo_components.virtual_sources import register_source, unregister_source
from project.shop.models import Product

pytestmark = pytest.mark.django_db(databases="__all__")

STRIDE = 100
ROWS = 1234


@pytest.fixture
def products(db_alias: str) -> Iterator[str]:
    Product.objects.bulk_create(
        Product(name=f"P{i % 37:02d}", price=Decimal(i % 11), description="") for i in range(ROWS)
    )
    register_source("k-name", Product.objects.only("pk", "name", "price"), order=("name", "pk"))
    register_source("k-desc", Product.objects.only("pk", "name", "price"), order=("-price", "pk"))
    virtual_keyset.clear()
    conf = {**settings.PERFSUITE, "VIRTUAL_INDEX_STRIDE": STRIDE}
    with override_settings(PERFSUITE=conf):
        yield db_alias
    virtual_keyset.clear()
    unregister_source("k-name")
    unregister_source("k-desc")


def ids(html_rows: list[str]) -> list[int]:
    return [int(m) for row in html_rows for m in re.findall(r"/products/(\d+)/", row)]


def token(client: Client, path: str = "/products/virtual/") -> str:
    match = re.search(r'data-token="([^"]+)"', client.get(path).content.decode())
    assert match
    return match[1]


@pytest.mark.parametrize(
    ("name", "order"), [("k-name", ("name", "pk")), ("k-desc", ("-price", "pk"))]
)
def test_windows_equal_slices_of_the_ordered_queryset(
    products: str, name: str, order: tuple[str, ...]
) -> None:
    from perfsuite.memo_components.virtual_sources import get_source

    expected = list(Product.objects.order_by(*order).values_list("pk", flat=True))
    rows = get_source(name).open(None)
    assert rows.count() == ROWS
    for start in (0, 10, 99, 100, 101, 555, 1199, ROWS - 7):
        got = [p.pk for p in rows.window(start, start + 20)]
        assert got == expected[start : start + 20], start


def test_a_deep_window_is_one_keyset_query_with_a_short_skip(products: str) -> None:
    from perfsuite.memo_components.virtual_sources import get_source

    rows = get_source("k-name").open(None)
    rows.window(1000, 1010)  # builds the index (and caches the count)
    with CaptureQueriesContext(connections[products]) as queries:
        rows.window(ROWS - 10, ROWS)
    [query] = queries.captured_queries
    sql = query["sql"]
    assert '"shop_product"."name" >=' in sql  # the indexable bound comes first
    offset = re.search(r"OFFSET (\d+)", sql)
    assert offset is None or int(offset[1]) < STRIDE, sql


def test_the_index_follows_the_table(products: str) -> None:
    from perfsuite.memo_components.virtual_sources import get_source

    conf = {**settings.PERFSUITE, "VIRTUAL_INDEX_STRIDE": STRIDE, "VIRTUAL_COUNT_TTL": 1e-6}
    with override_settings(PERFSUITE=conf):
        rows = get_source("k-name").open(None)
        before = [p.name for p in rows.window(600, 610)]
        Product.objects.bulk_create(
            Product(name="P00", price=Decimal(1), description="") for _ in range(300)
        )
        expected = list(Product.objects.order_by("name", "pk").values_list("name", flat=True))
        assert rows.count() == ROWS + 300
        after = [p.name for p in rows.window(600, 610)]
        assert after == expected[600:610] != before


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_the_demo_products_list_deep_windows(products: str, server: str) -> None:
    expected = list(Product.objects.order_by("name", "pk").values_list("pk", flat=True))
    client = Client()
    first = client.get("/products/virtual/").content.decode()
    assert f'aria-rowcount="{ROWS}"' in first
    assert ids([first.split('class="ps-vrows"')[1]])[:25] == expected[:25]
    params = {"t": token(client), "start": ROWS - 30, "end": ROWS}
    url = "/components/virtual/shop.product/"
    if server == "wsgi":
        response = client.get(url, params)
    else:
        response = async_to_sync(AsyncClient().get)(url, params)
    assert response.status_code == 200
    assert ids(response.json()["rows"]) == expected[-30:]
    # the token names the model: another model's name is refused
    params["start"], params["end"] = 0, 5
    assert client.get("/components/virtual/auth.user/", params).status_code == 400


def test_a_queryset_orders_by_field_names(products: str) -> None:
    from django.db.models import F

    from perfsuite.memo_components.virtual_keyset import order_of

    assert order_of(Product.objects.all(), None) == ("name", "pk")
    assert order_of(Product.objects.order_by("-price"), None) == ("-price", "pk")
    assert order_of(Product.objects.order_by("-id"), None) == ("-id",)
    with pytest.raises(TypeError):
        order_of(Product.objects.order_by(F("price").desc()), None)
    with pytest.raises(TypeError):
        order_of(Product.objects.order_by("?"), None)
