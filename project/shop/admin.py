from __future__ import annotations

from django.contrib import admin

from .models import Post, Product, Profile


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "created_at")
    search_fields = ("name",)
    list_filter = ("created_at",)
    date_hierarchy = "created_at"


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "location")
    search_fields = ("user__username", "location")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "status", "created_at")
    search_fields = ("title", "author__username")
    list_filter = ("status", "created_at")
    list_select_related = ("author",)
    raw_id_fields = ("author",)
    date_hierarchy = "created_at"
