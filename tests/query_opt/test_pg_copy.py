"""``bulk.bulk_create`` writes PostgreSQL batches with COPY: the same rows Django's
``bulk_create`` would write, hostile text intact, one counted query per batch."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from perfsuite.query_opt import bulk, dict_rows, pg_copy
from perfsuite.query_opt.budgets import assert_max_queries
from project.shop.models import Post, Product

pytestmark = pytest.mark.django_db(databases="__all__")
HOSTILE = "tab\there\nnew line \\N back\\slash ' quote \" é ✓ \r end"


def test_values_round_trip_like_djangos_bulk_create(postgres_alias: str) -> None:
    author = get_user_model().objects.create_user("writer")
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    rows = [
        Post(author=author, title=HOSTILE, body="", created_at=when, status="draft"),
        {"author": author, "title": "dict row", "body": HOSTILE},  # defaults filled in
    ]
    with assert_max_queries(3):  # the COPY (wrappers see it) between SAVEPOINT and RELEASE
        assert bulk.bulk_create(Post, iter(rows), batch_size=10) == 2
    first, second = Post.objects.order_by("pk")
    assert (first.title, first.created_at, first.status) == (HOSTILE, when, "draft")
    assert first.author_id == author.pk and second.body == HOSTILE
    assert second.status == "published" and second.created_at is not None


def test_decimals_and_batches(postgres_alias: str) -> None:
    rows = (Product(name=f"p{n}", price=Decimal("1234.56"), description="") for n in range(2500))
    with assert_max_queries(5):  # three COPYs, a savepoint and its release
        assert bulk.bulk_create(Product, rows, batch_size=1000) == 2500
    assert Product.objects.count() == 2500
    assert set(Product.objects.values_list("price", flat=True)) == {Decimal("1234.56")}
    Product.objects.create(name="after", price=1, description="")  # the sequence moved on


def test_rows_copy_cannot_take_go_through_djangos_path(postgres_alias: str) -> None:
    connection = connections[postgres_alias]
    some_pks = [
        Product(pk=10_000, name="a", price=1, description=""),
        Product(name="b", price=1, description=""),
    ]
    assert pg_copy.copy_batch(Product, some_pks, connection) is False
    assert bulk.bulk_create(Product, some_pks) == 2
    assert set(Product.objects.values_list("name", flat=True)) == {"a", "b"}
    assert pg_copy.copy_batch(Product, [], connection) is False
    assert pg_copy.copy_batch(Product, some_pks[:1], connections["default"]) is False  # SQLite


def test_a_failing_batch_rolls_back_every_copied_one(postgres_alias: str) -> None:
    def rows():  # type: ignore[no-untyped-def]
        for n in range(1500):
            yield Product(name=f"p{n}", price=1, description="")
        yield Product(name="x" * 500, price=1, description="")  # longer than max_length

    with pytest.raises(Exception, match="too long"):
        bulk.bulk_create(Product, rows(), batch_size=1000)
    assert Product.objects.count() == 0


def test_dict_rows_build_the_same_instances_as_keywords(db_alias: str) -> None:
    author = get_user_model().objects.create_user("writer")
    build = dict_rows.instance_builder(Post)
    by_instance = build({"author": author, "title": "t", "body": "b"})
    by_id = build({"author_id": author.pk, "title": "t", "body": "b", "status": "draft"})
    by_pk = build({"pk": 77, "author": author, "title": "t", "body": "b"})  # Django's way
    assert by_instance.author_id == by_id.author_id == author.pk
    assert by_instance.status == "published" and by_id.status == "draft", "defaults"
    assert by_instance.created_at is not None, "callable defaults run per row"
    assert by_pk.pk == 77
    with pytest.raises(ValueError, match="unsaved related object 'author'"):
        build({"author": get_user_model()(username="ghost"), "title": "t", "body": ""})
    with pytest.raises(TypeError):
        build({"no_such_field": 1})
    rows = ({"author": author, "title": f"d{n}", "body": HOSTILE} for n in range(1200))
    assert bulk.bulk_create(Post, rows, batch_size=500) == 1200
    assert Post.objects.filter(author=author, body=HOSTILE).count() == 1200


def test_dict_rows_skip_instances_where_fields_keep_their_values(postgres_alias: str) -> None:
    from django.db.models.signals import post_init

    author = get_user_model().objects.create_user("writer")
    made: list[object] = []

    def count(sender: type, instance: object, **kwargs: object) -> None:
        made.append(instance)

    post_init.connect(count, sender=Post)
    post_init.connect(count, sender=Product)
    try:
        posts = ({"author": author, "title": f"t{n}", "body": ""} for n in range(300))
        assert bulk.bulk_create(Post, posts, batch_size=100) == 300
        assert made == [], "Post keeps values as given: copied straight from the dicts"
        # Product.created_at is auto_now_add: its pre_save sets it, so instances are made
        products = ({"name": f"p{n}", "price": 1, "description": ""} for n in range(30))
        assert bulk.bulk_create(Product, products, batch_size=100) == 30
        assert len(made) == 30
    finally:
        post_init.disconnect(count, sender=Post)
        post_init.disconnect(count, sender=Product)
    assert not Product.objects.filter(created_at__isnull=True).exists()
    assert Post.objects.filter(author=author, status="published").count() == 300
    with_pk = [{"id": 900_000, "author": author, "title": "x", "body": ""}]
    assert bulk.bulk_create(Post, with_pk) == 1 and Post.objects.filter(pk=900_000).exists()
