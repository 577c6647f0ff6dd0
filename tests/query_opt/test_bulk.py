"""Bulk operations in bounded memory, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from perfsuite.query_opt import bulk
from project.shop.models import Post, Product

pytestmark = pytest.mark.django_db(databases="__all__")


def rows(count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {"name": f"bulk {n:07d}", "price": Decimal("1.50"), "description": "x" * 40}


def peak_while(function: Any) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_generator_is_inserted_in_batches_in_bounded_memory(db_alias: str) -> None:
    small = peak_while(lambda: bulk.bulk_create(Product, rows(5_000), batch_size=1000))
    Product.objects.all().delete()
    count = [0]

    def big() -> None:
        count[0] = bulk.bulk_create(Product, rows(50_000), batch_size=1000)

    large = peak_while(big)
    assert count[0] == 50_000
    assert Product.objects.count() == 50_000
    assert large < 2 * small, f"peak memory grew with the input: {small} -> {large} bytes"


MILLION = """
import os, resource, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
django.setup()
from django.conf import settings
settings.DATABASES["default"]["NAME"] = {db!r}  # a file: RSS then measures Python only
from django.core.management import call_command
from django.db import connection
from decimal import Decimal
call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
from perfsuite.query_opt.bulk import bulk_create
from project.shop.models import Product
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rows = ({{"name": f"m{{n}}", "price": Decimal("1"), "description": "x" * 40}} for n in range({n}))
assert bulk_create(Product, rows, batch_size=5000) == {n}
assert Product.objects.count() == {n}
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


@pytest.mark.slow
def test_a_million_rows_from_a_generator_in_flat_memory(tmp_path: Any) -> None:
    """In a process of its own (SQLite in a file): the peak RSS grows by what one batch
    needs, not by a million model instances (Django's own bulk_create lists them all)."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    grown = []
    for n in (100_000, 1_000_000):
        code = MILLION.format(root=str(ROOT), n=n, db=str(tmp_path / f"million-{n}.sqlite3"))
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        grown.append(int(result.stdout.strip().splitlines()[-1]))
    small, large = grown
    assert large < small + 40, f"RSS grew {small} MB for 100k rows, {large} MB for 1M"


def test_an_error_rolls_every_batch_back(db_alias: str) -> None:
    def broken() -> Iterator[dict[str, Any]]:
        yield from rows(2500)
        raise RuntimeError("the source failed")

    with pytest.raises(RuntimeError):
        bulk.bulk_create(Product, broken(), batch_size=1000)
    assert Product.objects.count() == 0


def test_bad_batch_sizes_and_ages(db_alias: str) -> None:
    for size in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            bulk.bulk_create(Product, rows(1), batch_size=size)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="days"):
        bulk.delete_older_than(Post, "created_at", -1)


def test_status_updates_by_queryset_or_ids(db_alias: str) -> None:
    author = get_user_model().objects.create_user("bulky")
    posts = Post.objects.bulk_create(
        Post(author=author, title=f"p{n}", body="") for n in range(2000)
    )
    ids = [p.pk for p in Post.objects.filter(author=author)]
    assert bulk.bulk_update_status(ids, Post.Status.DRAFT, model=Post) == 2000
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == 2000
    published = Post.objects.filter(pk__in=ids[:10])
    assert bulk.bulk_update_status(published, Post.Status.PUBLISHED) == 10
    assert len(posts) == 2000


def test_delete_older_than_in_batches_leaves_new_rows(db_alias: str) -> None:
    author = get_user_model().objects.create_user("oldtimer")
    old = timezone.now() - timedelta(days=40)
    Post.objects.bulk_create(
        Post(author=author, title=f"old{n}", body="", created_at=old) for n in range(2500)
    )
    Post.objects.bulk_create(Post(author=author, title=f"new{n}", body="") for n in range(30))
    assert bulk.delete_older_than(Post, "created_at", 30, batch_size=700) == 2500
    assert Post.objects.count() == 30


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_delete_older_than_under_concurrent_writes(postgres_alias: str) -> None:
    author = get_user_model().objects.create_user("busy")
    old = timezone.now() - timedelta(days=40)
    Post.objects.bulk_create(
        Post(author=author, title=f"old{n}", body="", created_at=old) for n in range(3000)
    )
    written = []

    def writer() -> None:
        try:
            for n in range(200):
                written.append(Post.objects.create(author=author, title=f"live{n}", body="").pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    deleted = bulk.delete_older_than(Post, "created_at", 30, batch_size=250)
    thread.join()
    assert deleted == 3000
    assert Post.objects.count() == 200 == len(written)


def test_execute_transaction_is_all_or_nothing(db_alias: str) -> None:
    def make(name: str) -> Any:
        return lambda: Product.objects.create(name=name, price=Decimal("1"), description="")

    def fail() -> None:
        raise ValueError("stop")

    with pytest.raises(ValueError):
        bulk.execute_transaction([make("a"), make("b"), fail], using=db_alias)
    assert Product.objects.count() == 0
    results = bulk.execute_transaction([make("a"), make("b")], using=db_alias)
    assert [p.name for p in results] == ["a", "b"]


def test_async_twins(db_alias: str) -> None:
    assert async_to_sync(bulk.abulk_create)(Product, rows(1500), batch_size=500) == 1500
    assert Product.objects.count() == 1500


def test_inserted_instances_with_file_fields_are_freed_without_a_collection() -> None:
    import gc
    import weakref

    product = Product(name="p", price=1, description="", image="products/a.png")
    assert product.image.name == "products/a.png"  # a FieldFile pointing back: a cycle
    alive = weakref.ref(product)
    bulk._uncycle([product], ["image"])
    assert product.image.name == "products/a.png", "the value is kept"
    bulk._uncycle([product], ["image"])
    gc.disable()
    try:
        del product
        assert alive() is None, "freed by reference counting alone"
    finally:
        gc.enable()
