"""The shop's models: string forms, defaults and orderings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from project.shop.models import Post, Product, Profile

User = get_user_model()


@pytest.mark.django_db(databases="__all__")
def test_string_forms(db_alias: str) -> None:
    user = User.objects.create_user(username="erin")
    assert str(Product(name="Lamp", price=Decimal("1"), description="")) == "Lamp"
    assert str(Profile.objects.create(user=user)) == "Profile of erin"
    assert str(Post.objects.create(author=user, title="Hello", body="")) == "Hello"


@pytest.mark.django_db(databases="__all__")
def test_defaults_and_orderings(db_alias: str) -> None:
    user = User.objects.create_user(username="frank")
    old = Post.objects.create(
        author=user, title="old", body="", created_at=timezone.now() - timedelta(days=3)
    )
    new = Post.objects.create(author=user, title="new", body="")
    assert new.status == Post.Status.PUBLISHED
    assert list(Post.objects.all()) == [new, old]
    assert list(user.posts.all()) == [new, old]

    for name in ("b", "c", "a"):
        Product.objects.create(name=name, price=Decimal("2.00"), description="")
    assert [p.name for p in Product.objects.all()] == ["a", "b", "c"]
    assert Product.objects.get(name="a").image.name == ""

    profile = Profile.objects.create(user=user, location="Oslo")
    assert User.objects.get(pk=user.pk).profile == profile
