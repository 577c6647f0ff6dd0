"""Fill the demo shop with deterministic products, users (with profiles) and posts.

Every row has a number-derived name (``Product 000001``, ``user0001``,
``Post 000001``) and content drawn from ``random.Random`` seeded with that
number, so the data is the same on every run and every machine. The command
looks up which of the wanted rows already exist and creates only the missing
ones: re-running it creates nothing, and a larger count adds only the rest.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import connections, router, transaction
from django.utils import timezone
from tqdm import tqdm

from project.shop.models import Post, Product, Profile

DEMO_PASSWORD = "demo-password"
SEED = 20240601
PUBLISHED_SHARE = 0.9
SPREAD_SECONDS = 365 * 24 * 60 * 60

_WORD_TEXT = """
alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november
oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu fast cache
query index page render static worker queue memory profile
"""
_ADJECTIVE_TEXT = "Classic Compact Deluxe Eco Handy Modern Portable Pro Smart Sturdy"
_NOUN_TEXT = "Backpack Bottle Chair Desk Headphones Kettle Lamp Mug Notebook Speaker"
_CITY_TEXT = "Amsterdam Berlin Lisbon Madrid Oslo Paris Prague Rome Vienna Warsaw"
WORDS = _WORD_TEXT.split()
ADJECTIVES = _ADJECTIVE_TEXT.split()
NOUNS = _NOUN_TEXT.split()
CITIES = _CITY_TEXT.split()


def count_arg(value: str) -> int:
    """argparse ``type=`` for a count: a whole number >= 0, else a usage error."""
    try:
        number = int(value, 10)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {value!r}")
    return number


def positive_arg(value: str) -> int:
    """argparse ``type=`` for a batch size: a whole number >= 1."""
    number = count_arg(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}")
    return number


def _rng(kind: str, number: int) -> random.Random:
    # A string seed is hashed with SHA-512 by random.Random: stable across runs and
    # interpreters (unlike hash()), and independent of what else was created.
    return random.Random(f"{SEED}:{kind}:{number}")


def product_name(number: int) -> str:
    return f"Product {number:06d}"


def username(number: int) -> str:
    return f"user{number:04d}"


def post_title(number: int) -> str:
    """``Post 000001: Some words``; the words depend on the number alone."""
    rng = _rng("post-title", number)
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
    return f"Post {number:06d}: {words.capitalize()}"


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(
        " ".join(_sentence(rng, 6, 14) for _ in range(rng.randint(2, 5))) for _ in range(count)
    )


def _chunks(numbers: range, size: int) -> Iterator[range]:
    for start in range(0, len(numbers), size):
        yield numbers[start : start + size]


@dataclass
class Tally:
    created: int = 0
    existing: int = 0


class _TqdmStream:
    """Let tqdm write through the command's stdout without a newline per update."""

    def __init__(self, out: OutputWrapper) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, ending="")

    def flush(self) -> None:
        self._out.flush()


class Command(BaseCommand):
    help = (
        "Create deterministic demo data: products, users with profiles, and posts. "
        "Idempotent: only the rows that are missing are created."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products", type=count_arg, default=10000, help="Products wanted (default 10000)."
        )
        parser.add_argument(
            "--users", type=count_arg, default=500, help="Users wanted (default 500)."
        )
        parser.add_argument(
            "--posts", type=count_arg, default=20000, help="Posts wanted (default 20000)."
        )
        parser.add_argument(
            "--database",
            default=None,
            help="Database alias (default: the router's write database for Product).",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_arg,
            default=2000,
            help="Rows per INSERT and per transaction (default 2000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command(products=-5) skips argparse's type=: check again here.
        counts: dict[str, int] = {}
        for name in ("products", "users", "posts", "batch_size"):
            value = options[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be a whole number >= 0")
            counts[name] = value
        if counts["batch_size"] < 1:
            raise CommandError("--batch-size must be a whole number >= 1")

        db = options["database"] or router.db_for_write(Product)
        if db not in connections:
            raise CommandError(f"unknown database alias {db!r}")
        self.db = db
        self.batch_size = counts["batch_size"]
        self.verbosity = int(options["verbosity"])
        self.now = timezone.now()

        products = self._seed_products(counts["products"])
        users = self._seed_users(counts["users"])
        posts = self._seed_posts(counts["posts"], counts["users"])

        if self.verbosity >= 1:
            lines = [f"Demo data in database {db!r}:"]
            for label, tally in (("products", products), ("users", users), ("posts", posts)):
                lines.append(f"  {label}: {tally.created} created, {tally.existing} existing")
            self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    # -- helpers -----------------------------------------------------------

    def _progress(self, total: int, label: str) -> tqdm:
        return tqdm(
            total=total,
            desc=label,
            unit="row",
            file=_TqdmStream(self.stdout),
            disable=self.verbosity == 0 or total == 0,
            leave=True,
            dynamic_ncols=False,
            ncols=80,
        )

    def _missing(self, model: type[Any], field: str, wanted: Sequence[str]) -> list[str]:
        existing = set(
            model._default_manager.using(self.db)
            .filter(**{f"{field}__in": wanted})
            .values_list(field, flat=True)
        )
        return [value for value in wanted if value not in existing]

    # -- products ----------------------------------------------------------

    def _product(self, number: int) -> Product:
        rng = _rng("product", number)
        adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        return Product(
            name=product_name(number),
            price=Decimal(rng.randint(199, 99999)) / 100,
            description=f"{adjective} {noun.lower()}. " + _paragraphs(rng, rng.randint(1, 3)),
        )

    def _seed_products(self, wanted: int) -> Tally:
        tally = Tally()
        with self._progress(wanted, "products") as bar:
            for chunk in _chunks(range(1, wanted + 1), self.batch_size):
                names = [product_name(n) for n in chunk]
                missing = set(self._missing(Product, "name", names))
                new = [self._product(n) for n in chunk if product_name(n) in missing]
                if new:
                    with transaction.atomic(using=self.db):
                        Product.objects.using(self.db).bulk_create(new)
                tally.created += len(new)
                tally.existing += len(chunk) - len(new)
                bar.update(len(chunk))
        return tally

    # -- users and profiles --------------------------------------------------

    def _seed_users(self, wanted: int) -> Tally:
        user_model = get_user_model()
        tally = Tally()
        password = ""  # hashed once, only if a user is created
        with self._progress(wanted, "users") as bar:
            for chunk in _chunks(range(1, wanted + 1), self.batch_size):
                names = [username(n) for n in chunk]
                missing = set(self._missing(user_model, user_model.USERNAME_FIELD, names))
                if missing and not password:
                    password = make_password(DEMO_PASSWORD)
                new = [
                    user_model(
                        **{user_model.USERNAME_FIELD: username(n)},
                        email=f"{username(n)}@example.com",
                        password=password,
                        date_joined=self.now - timedelta(days=400),
                    )
                    for n in chunk
                    if username(n) in missing
                ]
                with transaction.atomic(using=self.db):
                    if new:
                        user_model._default_manager.using(self.db).bulk_create(new)
                    self._add_profiles(user_model, names)
                tally.created += len(new)
                tally.existing += len(chunk) - len(new)
                bar.update(len(chunk))
        return tally

    def _add_profiles(self, user_model: type[Any], names: list[str]) -> None:
        """A Profile for every seeded user of this batch that has none yet."""
        ids = dict(
            user_model._default_manager.using(self.db)
            .filter(**{f"{user_model.USERNAME_FIELD}__in": names})
            .filter(profile__isnull=True)
            .values_list("pk", user_model.USERNAME_FIELD)
        )
        profiles = []
        for pk, name in ids.items():
            rng = _rng("profile", int(name[len("user") :]))
            profiles.append(
                Profile(user_id=pk, location=rng.choice(CITIES), bio=_sentence(rng, 8, 20))
            )
        if profiles:
            Profile.objects.using(self.db).bulk_create(profiles)

    # -- posts ---------------------------------------------------------------

    def _authors(self, users_wanted: int) -> list[int]:
        """The seeded users' ids in username order: the posts' authors."""
        user_model = get_user_model()
        field = user_model.USERNAME_FIELD
        manager = user_model._default_manager.using(self.db)
        if users_wanted:
            names = [username(n) for n in range(1, users_wanted + 1)]
            # Fetch in slices: some databases cap the parameters of one query.
            found: dict[str, int] = {}
            for chunk in _chunks(range(len(names)), self.batch_size):
                part = names[chunk.start : chunk.stop]
                found.update(
                    (name, pk)
                    for pk, name in manager.filter(**{f"{field}__in": part}).values_list(
                        "pk", field
                    )
                )
            return [found[name] for name in names if name in found]
        # --users 0: write posts for whichever seeded users are already there.
        return list(
            manager.filter(**{f"{field}__regex": r"^user[0-9]{4,}$"})
            .order_by(field)
            .values_list("pk", flat=True)
        )

    def _post(self, number: int, author_id: int) -> Post:
        rng = _rng("post", number)
        created_at: datetime = self.now - timedelta(seconds=rng.randrange(SPREAD_SECONDS))
        published = rng.random() < PUBLISHED_SHARE
        return Post(
            author_id=author_id,
            title=post_title(number),
            body=_paragraphs(rng, rng.randint(1, 4)),
            created_at=created_at,
            status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
        )

    def _seed_posts(self, wanted: int, users_wanted: int) -> Tally:
        tally = Tally()
        authors: list[int] = []
        with self._progress(wanted, "posts") as bar:
            for chunk in _chunks(range(1, wanted + 1), self.batch_size):
                titles = [post_title(n) for n in chunk]
                missing = set(self._missing(Post, "title", titles))
                if missing and not authors:
                    authors = self._authors(users_wanted)
                    if not authors:
                        raise CommandError(
                            "posts need authors: no seeded user exists; pass --users N (N > 0)"
                        )
                new = [
                    self._post(n, authors[(n - 1) % len(authors)])
                    for n in chunk
                    if post_title(n) in missing
                ]
                if new:
                    with transaction.atomic(using=self.db):
                        Post.objects.using(self.db).bulk_create(new)
                tally.created += len(new)
                tally.existing += len(chunk) - len(new)
                bar.update(len(chunk))
        return tally
