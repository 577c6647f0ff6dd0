"""Cost of query_opt's unused-eager-load tracking (perfsuite/query_opt/eager.py).

    .venv/bin/python benchmarks/bench_query_opt_eager.py [--quick]

Two eager loads against SQLite in memory, each read the way a page reads them:
100 posts with ``select_related("author")`` (every author's name read), and 100 users
with ``prefetch_related("posts")`` (every user's posts counted). Side by side in one
run, repetitions in rotating order:

- ``django``: Django's own internals (the wrappers uninstalled);
- ``wrapped, no request``: the wrappers installed, no request log (commands, tasks);
- ``request log``: inside a request's QueryLog with the tracking off
  (``UNUSED_EAGER_MODE = "off"``): counting, timing, fingerprinting only;
- ``request log + tracking``: the same with the unused-eager-load tracker.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from common import setup_django, side_by_side, table

setup_django("benchmarks.settings.query")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from perfsuite.query_opt import eager  # noqa: E402
from perfsuite.query_opt.instrumentation import QueryLog, begin, end, install_everywhere  # noqa: E402
from project.shop.models import Post  # noqa: E402

QUICK = "--quick" in sys.argv
LOOPS = 20 if QUICK else 60
REPS = 5 if QUICK else 7
ROWS = 100


def select_page() -> None:
    for post in Post.objects.select_related("author").order_by("pk")[:ROWS]:
        post.author.username  # noqa: B018


def prefetch_page() -> None:
    for user in get_user_model().objects.prefetch_related("posts").order_by("pk")[:ROWS]:
        len(user.posts.all())


def timed(page: Callable[[], None], installed: bool, log: Callable[[], QueryLog | None]) -> float:
    (eager.install if installed else eager.uninstall)()
    start = time.perf_counter()
    for _ in range(LOOPS):
        current = log()
        token = begin(current) if current is not None else None
        try:
            page()
        finally:
            if token is not None:
                end(token)
    return (time.perf_counter() - start) / LOOPS


def tracked_log() -> QueryLog:
    log = QueryLog(threshold=1 << 30)
    log.eager = eager.EagerTracker()
    return log


def configs(page: Callable[[], None]) -> dict[str, Callable[[], float]]:
    return {
        "django": lambda: timed(page, False, lambda: None),
        "wrapped, no request": lambda: timed(page, True, lambda: None),
        "request log": lambda: timed(page, True, lambda: QueryLog(threshold=1 << 30)),
        "request log + tracking": lambda: timed(page, True, tracked_log),
    }


def report(title: str, results: dict[str, Any], per: str, count: int) -> None:
    print(table(title, results, "django"))
    pairs = (("wrapped, no request", "django"), ("request log + tracking", "request log"))
    for name, base in pairs:
        added = statistics.median(v - b for v, b in zip(results[name], results[base], strict=True))
        each = added * 1e6 / count
        print(f"{name} vs {base}: {added * 1e6:+.2f} µs a page, {each:+.3f} µs {per}")
    print()


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    install_everywhere()
    users = [get_user_model().objects.create_user(f"b{n}") for n in range(ROWS)]
    Post.objects.bulk_create(Post(author=u, title="t", body="b") for u in users)
    for title, page, per in (
        ("100 posts with select_related('author'), every author read", select_page, "a row"),
        ("100 users with prefetch_related('posts'), every list read", prefetch_page, "a user"),
    ):
        runs = configs(page)
        for run in runs.values():
            run()
        report(title, side_by_side(runs, REPS), per, ROWS)
    eager.uninstall()


if __name__ == "__main__":
    main()
