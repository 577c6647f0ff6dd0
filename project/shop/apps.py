from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "project.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Demo shop"

    def ready(self) -> None:
        from perfsuite.cache import invalidate_on_save

        from .models import Post, Product

        # Editing a product (in admin or anywhere) drops the pages that show products;
        # a post, those that count posts (the dashboard).
        invalidate_on_save(Product, ["products"])
        invalidate_on_save(Post, ["posts"])
