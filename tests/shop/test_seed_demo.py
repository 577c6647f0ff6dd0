"""``manage.py seed_demo``: exact counts, idempotence, growth, usage errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError

from project.shop.models import Post, Product, Profile

REPO = Path(__file__).resolve().parents[2]
User = get_user_model()


def seed(db_alias: str, **options: object) -> str:
    buf = io.StringIO()
    call_command("seed_demo", database=db_alias, stdout=buf, **options)
    return buf.getvalue()


def counts(db_alias: str) -> tuple[int, int, int, int]:
    return (
        Product.objects.using(db_alias).count(),
        User.objects.using(db_alias).count(),
        Profile.objects.using(db_alias).count(),
        Post.objects.using(db_alias).count(),
    )


@pytest.mark.django_db(databases="__all__")
def test_creates_requested_counts_then_nothing(db_alias: str) -> None:
    out = seed(db_alias, products=120, users=7, posts=90, batch_size=50)
    assert counts(db_alias) == (120, 7, 7, 90)
    assert "products: 120 created, 0 existing" in out
    assert "users: 7 created, 0 existing" in out
    assert "posts: 90 created, 0 existing" in out

    names = list(Product.objects.using(db_alias).values_list("name", flat=True))
    assert names[0] == "Product 000001"
    assert names[-1] == "Product 000120"
    assert sorted(User.objects.using(db_alias).values_list("username", flat=True)) == [
        f"user{n:04d}" for n in range(1, 8)
    ]

    again = seed(db_alias, products=120, users=7, posts=90, batch_size=50)
    assert counts(db_alias) == (120, 7, 7, 90)
    assert "products: 0 created, 120 existing" in again
    assert "users: 0 created, 7 existing" in again
    assert "posts: 0 created, 90 existing" in again


@pytest.mark.django_db(databases="__all__")
def test_growing_adds_only_the_difference(db_alias: str) -> None:
    seed(db_alias, products=30, users=3, posts=20)
    first_ids = set(Product.objects.using(db_alias).values_list("pk", flat=True))

    out = seed(db_alias, products=75, users=5, posts=44, batch_size=20)
    assert counts(db_alias) == (75, 5, 5, 44)
    assert "products: 45 created, 30 existing" in out
    assert "users: 2 created, 3 existing" in out
    assert "posts: 24 created, 20 existing" in out
    # the first 30 products were kept, not re-created
    assert first_ids <= set(Product.objects.using(db_alias).values_list("pk", flat=True))
    assert Product.objects.using(db_alias).filter(name="Product 000075").exists()
    assert not Product.objects.using(db_alias).filter(name="Product 000076").exists()


@pytest.mark.django_db(databases="__all__")
def test_fills_a_gap_left_by_a_deleted_row(db_alias: str) -> None:
    seed(db_alias, products=10, users=0, posts=0)
    Product.objects.using(db_alias).filter(name="Product 000004").delete()
    out = seed(db_alias, products=10, users=0, posts=0)
    assert "products: 1 created, 9 existing" in out
    assert Product.objects.using(db_alias).filter(name="Product 000004").count() == 1


@pytest.mark.django_db(databases="__all__")
def test_data_is_deterministic(db_alias: str) -> None:
    seed(db_alias, products=5, users=2, posts=6)

    def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        products = list(
            Product.objects.using(db_alias)
            .order_by("name")
            .values_list("name", "price", "description")
        )
        posts = list(
            Post.objects.using(db_alias)
            .order_by("title")
            .values_list("title", "body", "status", "author__username")
        )
        return products, posts

    before = snapshot()
    Post.objects.using(db_alias).all().delete()
    Product.objects.using(db_alias).all().delete()
    seed(db_alias, products=5, users=2, posts=6)
    assert snapshot() == before
    # products differ from each other: the seed depends on the number
    assert len({description for _, _, description in before[0]}) == 5


@pytest.mark.django_db(databases="__all__")
def test_users_profiles_and_posts_content(db_alias: str) -> None:
    seed(db_alias, products=0, users=7, posts=200)
    users = list(User.objects.using(db_alias).order_by("username"))
    # one hash shared by every demo user, and it is the documented password
    assert len({u.password for u in users}) == 1
    assert check_password("demo-password", users[0].password)
    assert all(Profile.objects.using(db_alias).filter(user=u).exists() for u in users)

    per_author = {u.username: Post.objects.using(db_alias).filter(author=u).count() for u in users}
    assert sum(per_author.values()) == 200
    assert min(per_author.values()) >= 28  # spread round-robin: 200 / 7 = 28 or 29

    published = Post.objects.using(db_alias).filter(status=Post.Status.PUBLISHED).count()
    assert 160 <= published <= 195  # about 90 %
    assert published < 200  # some drafts

    from django.utils import timezone

    now = timezone.now()
    dates = list(Post.objects.using(db_alias).values_list("created_at", flat=True))
    assert all((now - d).days <= 365 for d in dates)
    assert (now - min(dates)).days > 180  # spread over the year, not all "now"
    assert len(set(dates)) > 190


@pytest.mark.django_db(databases="__all__")
def test_posts_without_any_user_is_a_clear_error(db_alias: str) -> None:
    with pytest.raises(CommandError, match="--users"):
        seed(db_alias, products=0, users=0, posts=3)
    assert Post.objects.using(db_alias).count() == 0


@pytest.mark.django_db(databases="__all__")
def test_posts_reuse_existing_seeded_users_when_users_is_zero(db_alias: str) -> None:
    seed(db_alias, products=0, users=2, posts=0)
    seed(db_alias, products=0, users=0, posts=4)
    assert set(Post.objects.using(db_alias).values_list("author__username", flat=True)) == {
        "user0001",
        "user0002",
    }


@pytest.mark.django_db(databases="__all__")
def test_verbosity_zero_prints_nothing_and_progress_otherwise(db_alias: str) -> None:
    assert seed(db_alias, products=3, users=1, posts=2, verbosity=0) == ""
    out = seed(db_alias, products=6, users=1, posts=2, verbosity=1)
    assert "products" in out
    assert "6/6" in out  # tqdm's bar went to the command's stdout


@pytest.mark.django_db(databases="__all__")
def test_default_database_comes_from_the_router(db_alias: str) -> None:
    buf = io.StringIO()
    call_command("seed_demo", products=2, users=1, posts=1, stdout=buf)
    assert f"database {db_alias!r}" in buf.getvalue()
    assert Product.objects.using(db_alias).count() == 2


@pytest.mark.parametrize("value", ["-5", "abc", "1.5", ""])
def test_bad_count_is_a_usage_error(value: str) -> None:
    with pytest.raises(CommandError) as info:
        call_command("seed_demo", "--products", value, stdout=io.StringIO())
    message = str(info.value)
    assert message.startswith("Error: argument --products:")
    assert "must be a whole number >= 0" in message


def test_zero_batch_size_is_a_usage_error() -> None:
    with pytest.raises(CommandError, match="argument --batch-size: must be a whole number >= 1"):
        call_command("seed_demo", "--batch-size", "0", stdout=io.StringIO())


def test_negative_count_through_call_command_kwargs_is_refused() -> None:
    # call_command(products=-5) bypasses argparse; handle() checks again.
    with pytest.raises(CommandError, match="--products must be a whole number >= 0"):
        call_command("seed_demo", products=-5, stdout=io.StringIO())


@pytest.mark.slow
@pytest.mark.parametrize("value", ["-5", "abc"])
def test_command_line_usage_error_exits_2(value: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--products", value],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "argument --products: must be a whole number >= 0" in proc.stderr
    assert "usage:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
