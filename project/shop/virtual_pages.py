"""The demo's virtual lists (memo_components' ``{% virtual_list %}``).

- ``/items/``: the guide's 100,000 items (``{"id": i, "name": f"Item {i}"}``, rows of
  40 px in a 600 px container), made on demand by the registered source ``items``;
- ``/products/virtual/``: every product, an unfiltered QuerySet handed to the tag
  (read by keyset on ``name, pk``).

Both pages work without JavaScript: ``?page=N`` shows that page with links around it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from perfsuite.memo_components.virtual_sources import generated, register_source

from .models import Product

ITEMS = 100_000


def item(index: int) -> dict[str, Any]:
    return {"id": index, "name": f"Item {index}"}


register_source("items", generated(ITEMS, item))


@require_safe
def items_page(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/items.html", {"total": ITEMS})


@require_safe
def products_virtual_page(request: HttpRequest) -> HttpResponse:
    products = Product.objects.only("pk", "name", "price").order_by("name", "pk")
    return render(request, "shop/products_virtual.html", {"products": products})
