"""The guide's ``ProductCard`` (memoized) and ``ProductList``, as the demo's components.

``/products/`` renders a page of cards through ``ProductList``; each card is
memoized under its product's ``(pk, updated_at)``, so an edited product is a new
card and the other 49 of a page come from the cache (Admin -> Performance ->
Components shows the hit ratio).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from perfsuite.memo_components.components import Component, Prop
from perfsuite.memo_components.memo import MemoizedComponent

from .models import Product


class ProductCard(MemoizedComponent):
    """Memoized product card component."""

    name = "product_card"
    template_name = "shop/components/product_card.html"
    declared_props = {"product": Prop(Product), "show_description": Prop(bool, default=True)}


class ProductList(Component):
    """Efficient list rendering: each product card is memoized, and the cards another
    worker rendered are read from the shared alias in one round trip for the list."""

    name = "product_list"
    template_name = "shop/components/product_list.html"
    declared_props = {
        "products": Prop((list, tuple, QuerySet)),
        "show_descriptions": Prop(bool, default=True),
    }

    def get_context_data(self) -> dict[str, Any]:
        show = self.props["show_descriptions"]
        ProductCard.prefetch(
            {"product": p, "show_description": show} for p in self.props["products"]
        )
        return super().get_context_data()
