"""Cost of query_opt's per-query instrumentation vs none and vs django-zeal's detector.

    .venv/bin/python benchmarks/bench_query_opt.py [--quick]

One N+1 loop (100 posts, the author of each loaded on access: 100 queries against
SQLite in memory), run bare, inside a query_opt request log (counting, timing,
fingerprinting every query, the finding made once), and inside a django-zeal
context (which patches the ORM's related-object descriptors). Side by side in one
run, repetitions in rotating order; the cost per query is the difference to bare.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from typing import Any

from common import setup_django, side_by_side, table

setup_django("benchmarks.settings.query")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from perfsuite.query_opt.detection import Detector  # noqa: E402
from perfsuite.query_opt.instrumentation import QueryLog, begin, end, install_everywhere  # noqa: E402
from project.shop.models import Post  # noqa: E402

QUICK = "--quick" in sys.argv
LOOPS = 20 if QUICK else 60
REPS = 5 if QUICK else 7
POSTS = 100


def n_plus_one() -> None:
    for post in Post.objects.order_by("pk")[:POSTS]:
        post.author.username  # noqa: B018 - one query per post


def timed(wrap: Any) -> float:
    start = time.perf_counter()
    for _ in range(LOOPS):
        wrap(n_plus_one)
    return (time.perf_counter() - start) / (LOOPS * (POSTS + 1))


def bare(run: Any) -> None:
    run()


class _Request:
    resolver_match = None


def perfsuite(run: Any) -> None:
    log = QueryLog(threshold=5, on_repeat=Detector(_Request(), "off", ()))
    token = begin(log)
    try:
        run()
    finally:
        end(token)


def zeal(run: Any) -> None:
    from zeal import zeal_context

    with zeal_context():
        run()


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    install_everywhere()
    users = [get_user_model().objects.create_user(f"b{n}") for n in range(POSTS)]
    Post.objects.bulk_create(Post(author=u, title="t", body="b") for u in users)
    warnings.simplefilter("ignore")  # zeal warns about the N+1 it finds
    configs = {"bare": lambda: timed(bare), "perfsuite": lambda: timed(perfsuite)}
    configs["django-zeal 2.3"] = lambda: timed(zeal)
    for fn in configs.values():
        fn()
    results = side_by_side(configs, REPS)
    print(table("One query of an N+1 loop (SQLite in memory)", results, "bare"))
    base = results["bare"]
    for name in ("perfsuite", "django-zeal 2.3"):
        added = statistics.median(v - b for v, b in zip(results[name], base, strict=True))
        print(f"added per query by {name}: {added * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
