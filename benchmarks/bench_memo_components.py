"""A page of 1,000 product cards: memoized components vs plain includes, ``{% cache %}``
fragments and django-components' cache, side by side; and the cost of one memo key.

    .venv/bin/python benchmarks/bench_memo_components.py [--quick] [--profile]

1,000 demo ``Product`` rows (SQLite in memory) are read once into a list, so no
figure includes the database. Each configuration is one template that renders all
1,000 cards of ``shop/components/product_card.html`` (with ``show_description``),
warm, through ``Template.render``:

- plain ``{% include %}`` per card (the baseline);
- ``{% cache 300 card p.pk p.updated_at %}`` around the include, hits, on the
  local-memory alias and on django-redis (a redis-server started here on 127.0.0.1);
- django-components 0.152 ``{% component ... / %}`` with its ``Cache`` extension on,
  hits, on local memory and django-redis; the component's template is the card's
  source, and its key is the product's ``pk`` and ``updated_at`` like the others
  (its default ``hash()`` uses ``str(product)``, the name);
- ours: ``{% component "product_card" product=p show_description=True %}``, LRU hits
  (``COMPONENT_CACHE_ALIAS`` None), and shared hits (alias django-redis, this
  process's LRU emptied before every page, so each card is read from Redis).

django-components patches ``Template``, ``IncludeNode`` and ``InclusionNode`` when
its app is ready; the other configs run with Django's own methods put back, and one
row shows plain includes under its patches. Every page is checked: 1,000 cards, the
first card's text the same as the include's, and no render missed its cache.
``--profile`` prints cProfile's view of our two warm paths.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from importlib import metadata
from typing import Any

from common import ROOT, side_by_side, table

from tests.services import RedisServer, redis_binary

QUICK = "--quick" in sys.argv
PROFILE = "--profile" in sys.argv
CARDS = 1000
PAGES = 2 if QUICK else 4  # pages rendered per config per repetition
REPS = 5 if QUICK else 7
KEY_LOOPS = 5 if QUICK else 20  # passes over the 1,000 products per key figure

server = None
if redis_binary():
    server = RedisServer(redis_binary())  # type: ignore[arg-type]
    server.start()
    os.environ["BENCH_REDIS_URL"] = server.url
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings.components"

from django.template import Template as BaseTemplate  # noqa: E402
from django.template.library import InclusionNode  # noqa: E402
from django.template.loader_tags import IncludeNode  # noqa: E402

PATCHED = [
    (BaseTemplate, "__init__"),
    (BaseTemplate, "compile_nodelist"),
    (BaseTemplate, "render"),
    (IncludeNode, "render"),
    (InclusionNode, "__init__"),
    (InclusionNode, "render"),
]
STOCK = {(cls, name): cls.__dict__[name] for cls, name in PATCHED}

import django  # noqa: E402

django.setup()  # django-components' ready() patches the classes above

DJC = {(cls, name): cls.__dict__[name] for cls, name in PATCHED}
assert any(DJC[k] is not STOCK[k] for k in DJC), "django-components patched nothing?"


def djc_patches(on: bool) -> None:
    for (cls, name), method in (DJC if on else STOCK).items():
        setattr(cls, name, method)


djc_patches(False)

from django.core.cache import caches  # noqa: E402
from django.core.cache.utils import make_template_fragment_key  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import override_settings  # noqa: E402
from django_components import Component as DjcComponent  # noqa: E402
from django_components import register as djc_register  # noqa: E402

from perfsuite.memo_components.keys import local_key, memo_key  # noqa: E402
from perfsuite.memo_components.lru import renders  # noqa: E402
from perfsuite.memo_components.memo import identity  # noqa: E402
from project.shop.components import ProductCard  # noqa: E402
from project.shop.models import Product  # noqa: E402

CARD = "shop/components/product_card.html"
CARD_SOURCE = (ROOT / "templates" / CARD).read_text()
INCLUDE = f'{{% include "{CARD}" with product=p show_description=True %}}'
PAGE_INCLUDE = f"{{% for p in products %}}{INCLUDE}{{% endfor %}}"
PAGE_CACHE = (
    "{% load cache %}{% for p in products %}"
    f'{{% cache 300 card p.pk p.updated_at using="{{alias}}" %}}{INCLUDE}{{% endcache %}}'
    "{% endfor %}"
)
PAGE_OURS = (
    "{% load perfsuite_components %}{% for p in products %}"
    '{% component "product_card" product=p show_description=True %}{% endfor %}'
)
#: the guide's ProductList: its cards, and one read of the shared alias for all of them
PAGE_OURS_LIST = (
    "{% load perfsuite_components %}"
    '{% component "product_list" products=products show_descriptions=True %}'
)
PAGE_DJC = (
    "{% load component_tags %}{% for p in products %}"
    '{% component "{name}" product=p show_description=True / %}{% endfor %}'
)

djc_misses = 0


class DjcCard(DjcComponent):
    """ProductCard for django-components: the same template, the same key inputs."""

    template = CARD_SOURCE

    class Cache:
        enabled = True
        ttl = 300
        cache_name = "default"

        def hash(self, args: list, kwargs: dict) -> str:
            product = kwargs["product"]
            updated = product.updated_at.isoformat()
            return f"{product.pk}:{updated}:{kwargs['show_description']}"

    def get_template_data(self, args: Any, kwargs: Any, slots: Any, context: Any) -> dict:
        global djc_misses
        djc_misses += 1  # a cache hit returns before this is called
        return {"product": kwargs["product"], "show_description": kwargs["show_description"]}


@djc_register("djc_card_locmem")
class DjcCardLocmem(DjcCard):
    pass


@djc_register("djc_card_redis")
class DjcCardRedis(DjcCard):
    class Cache(DjcCard.Cache):
        cache_name = "redis"


def make_products() -> list[Product]:
    call_command("migrate", verbosity=0, interactive=False)
    blurb = "A sturdy, well made thing that does what it says & more <really>. " * 3
    Product.objects.bulk_create(
        Product(
            name=f"Product {i:04d}", price=Decimal(i % 500) + Decimal("0.99"), description=blurb
        )
        for i in range(CARDS)
    )
    products = list(Product.objects.all())
    assert len(products) == CARDS
    return products


class Config:
    """One page template and what to do before each page (outside the timing)."""

    def __init__(
        self,
        source: str,
        patched: bool = False,
        alias: str | None = None,
        before_page: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.patched = patched
        self.alias = alias
        self.before_page = before_page
        djc_patches(patched)
        self.template = engines["django"].from_string(source)
        djc_patches(False)

    def render(self, products: list[Product]) -> str:
        return self.template.render({"products": products})

    def run(self, products: list[Product], pages: int = PAGES) -> float:
        """Seconds per page."""
        djc_patches(self.patched)
        total = 0.0
        try:
            with override_settings(PERFSUITE=perfsuite(self.alias)):
                for _ in range(pages):
                    if self.before_page is not None:
                        self.before_page()
                    started = time.perf_counter()
                    self.render(products)
                    total += time.perf_counter() - started
        finally:
            djc_patches(False)
        return total / pages

    def page(self, products: list[Product]) -> str:
        djc_patches(self.patched)
        try:
            with override_settings(PERFSUITE=perfsuite(self.alias)):
                if self.before_page is not None:
                    self.before_page()
                return self.render(products)
        finally:
            djc_patches(False)


def perfsuite(alias: str | None) -> dict[str, Any]:
    return {"STORE": "local", "N_PLUS_ONE_MODE": "off", "COMPONENT_CACHE_ALIAS": alias}


LIST_SHARED = "ours, ProductList, shared hits (django-redis, LRU emptied)"


def configs() -> dict[str, Config]:
    found = {
        "plain include": Config(PAGE_INCLUDE),
        "{% cache %} locmem": Config(PAGE_CACHE.replace("{alias}", "default")),
    }
    if server is not None:
        found["{% cache %} django-redis"] = Config(PAGE_CACHE.replace("{alias}", "redis"))
    found["django-components cache, locmem"] = Config(
        PAGE_DJC.replace("{name}", "djc_card_locmem"), patched=True
    )
    if server is not None:
        found["django-components cache, django-redis"] = Config(
            PAGE_DJC.replace("{name}", "djc_card_redis"), patched=True
        )
    found["ours, LRU hits"] = Config(PAGE_OURS)
    if server is not None:
        found["ours, shared hits (django-redis, LRU emptied)"] = Config(
            PAGE_OURS, alias="redis", before_page=renders.clear
        )
    if server is not None:
        found[LIST_SHARED] = Config(PAGE_OURS_LIST, alias="redis", before_page=renders.clear)
    found["plain include, django-components' patches on"] = Config(PAGE_INCLUDE, patched=True)
    return found


DJC_ID = re.compile(r' data-djc-id-\w+=""')
CARD_RE = re.compile(r'<li class="card"[^>]*>.*?</li>', re.S)


def card_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def check(name: str, html: str, expected_first: str) -> None:
    cards = CARD_RE.findall(html)
    assert len(cards) == CARDS, f"{name}: {len(cards)} cards"
    assert card_text(cards[0]) == expected_first, f"{name}: {card_text(cards[0])!r}"


def counts() -> tuple[int, int, int]:
    stats = ProductCard.get_cache_stats()
    return stats["misses"], stats["hits"] - stats["shared_hits"], stats["shared_hits"]


def pages_table(products: list[Product]) -> None:
    found = configs()
    for config in found.values():  # fill every cache; compile the includes
        config.page(products)
    reference = found["plain include"].page(products)
    first = card_text(CARD_RE.findall(reference)[0])
    same = []
    for name, config in found.items():
        html = config.page(products)
        check(name, html, first)
        if html == reference:
            same.append(name)
        elif DJC_ID.sub("", html) == reference:
            same.append(f"{name} (less its data-djc-id attributes)")
    misses_before, djc_before = counts()[0], djc_misses
    results = side_by_side({n: (lambda c=c: c.run(products)) for n, c in found.items()}, REPS)
    assert counts()[0] == misses_before, "a memoized card missed during the timed runs"
    assert djc_misses == djc_before, "a django-components card missed during the timed runs"
    title = f"A page of {CARDS:,} product cards, warm (per page)"
    print(table(title, results, "plain include", "ms", 1e3))
    print(f"Byte-identical to the plain include page: {', '.join(same[1:])}.")
    print("Every page: 1,000 cards, the first card's text the same; no cache miss while timed.\n")
    shared = "ours, shared hits (django-redis, LRU emptied)"
    pairs = [  # (ours, theirs, the goal as the ratio to stay under, or None)
        ("ours, LRU hits", "plain include", 0.1),
        ("ours, LRU hits", "{% cache %} locmem", 1.0),
        ("ours, LRU hits", "{% cache %} django-redis", 1.0),
        ("ours, LRU hits", "django-components cache, locmem", None),
        (shared, "plain include", None),
        (shared, "{% cache %} django-redis", 1.0),
        (shared, "django-components cache, django-redis", None),
        (LIST_SHARED, "{% cache %} django-redis", 1.0),
        ("plain include, django-components' patches on", "plain include", None),
    ]
    for ours, theirs, goal in pairs:
        if ours in results and theirs in results:
            ratio = statistics.median(
                o / t for o, t in zip(results[ours], results[theirs], strict=True)
            )
            verdict = ""
            if goal is not None:
                verdict = f"; goal < x{goal}: {'met' if ratio < goal else 'MISSED'}"
            print(f"- {ours} / {theirs}: x{ratio:.3f} ({1 / ratio:.2f} times as fast{verdict})")
    per_card = statistics.median(results["ours, LRU hits"]) / CARDS * 1e6
    print(f"\nOurs, LRU hit: {per_card:.1f} µs per card (the {{% component %}} tag included).\n")
    if PROFILE:
        profile(found["ours, LRU hits"], products, "ours, LRU hits")
        if shared in found:
            profile(found[shared], products, "ours, shared hits")


def profile(config: Config, products: list[Product], title: str) -> None:
    profiler = cProfile.Profile()
    with override_settings(PERFSUITE=perfsuite(config.alias)):
        for _ in range(3):
            if config.before_page is not None:
                config.before_page()
            profiler.enable()
            config.render(products)
            profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(22)
    print(f"## cProfile, {title} (3 pages, by own time)\n\n```\n{out.getvalue().strip()}\n```\n")


def keys_table(products: list[Product]) -> None:
    ident = identity(ProductCard)

    def timed(one: Callable[[Product], object]) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            for _ in range(KEY_LOOPS):
                for p in products:
                    one(p)
            return (time.perf_counter() - started) / (KEY_LOOPS * len(products))

        return run

    results = side_by_side(
        {
            "{% cache %} key (make_template_fragment_key)": timed(
                lambda p: make_template_fragment_key("card", [p.pk, p.updated_at])
            ),
            "memo_key(identity, props)": timed(
                lambda p: memo_key(ident, {"product": p, "show_description": True})
            ),
            "ProductCard(product=p).memo_key()": timed(lambda p: ProductCard(product=p).memo_key()),
            "local_key(identity, props) (the LRU's key)": timed(
                lambda p: local_key(ident, {"product": p, "show_description": True})
            ),
        },
        REPS,
    )
    print(
        table(
            "Key of one card with a model instance prop (goal ≤ 5 µs)",
            results,
            "{% cache %} key (make_template_fragment_key)",
        )
    )
    for name in list(results)[1:]:
        micros = statistics.median(results[name]) * 1e6
        print(f"- {name}: {micros:.2f} µs; goal ≤ 5 µs: {'met' if micros <= 5 else 'MISSED'}")
    print()


def main() -> None:
    products = make_products()
    caches["default"].clear()
    if server is not None:
        caches["redis"].clear()
    djc_version = metadata.version("django-components")
    print(f"Django {django.get_version()}, django-components {djc_version}")
    print(f"{CARDS:,} cards, {PAGES} pages per config per repetition, {REPS} repetitions\n")
    pages_table(products)
    keys_table(products)


if __name__ == "__main__":
    try:
        main()
    finally:
        if server is not None:
            server.cleanup()
