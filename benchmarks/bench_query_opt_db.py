"""query_opt on PostgreSQL: bulk inserts and the N+1 page, side by side.

    .venv/bin/python benchmarks/bench_query_opt_db.py [--quick]

Starts a throw-away PostgreSQL server (tests/services.py) and measures:

1. inserting 10,000 posts: a ``save()`` loop, Django's ``bulk_create`` over a list,
   and ``perfsuite.query_opt.bulk.bulk_create`` over a generator of instances and of
   field dicts (COPY on PostgreSQL), on a server that commits durably (fsync on, as
   in production: tests/services.py's ``durable=True``);
2. the peak Python memory (tracemalloc) of ``bulk.bulk_create`` over generators of
   10^4, 10^5 and 10^6 rows (``--quick``: up to 10^5), and of Django's over a list;
3. the demo's ``/posts/slow/`` (100 posts, one query per author: 101 queries)
   against ``/posts/slow/?fixed=1`` (``select_related``: one query), through the
   whole middleware stack.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.services import PostgresServer, free_port, postgres_bin_dir

QUICK = "--quick" in sys.argv
ROWS = 10_000


def start_postgres() -> PostgresServer:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        sys.exit("needs the PostgreSQL server binaries (apt-get install postgresql)")
    server = PostgresServer(bin_dir, free_port(), durable=True)  # commits as in production
    server.start()
    createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port)]
    subprocess.run(server._cmd(*createdb, "-U", "postgres", "perfsuite"), check=True)
    os.environ["BENCH_PG_PORT"] = str(server.port)
    return server


def main() -> None:
    server = start_postgres()
    try:
        run()
    finally:
        server.stop()


def run() -> None:
    from common import setup_django, side_by_side, table

    setup_django("benchmarks.settings.query_pg")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from perfsuite.query_opt import bulk
    from project.shop.models import Post

    call_command("migrate", verbosity=0, interactive=False)
    author = get_user_model().objects.create_user("bench")

    def rows(n: int) -> Iterator[Post]:
        return (Post(author=author, title=f"post {i}", body="x" * 40) for i in range(n))

    def dicts(n: int) -> Iterator[dict[str, object]]:
        return ({"author": author, "title": f"post {i}", "body": "x" * 40} for i in range(n))

    def empty() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE shop_post")

    def timed(insert: object) -> float:
        empty()
        start = time.perf_counter()
        insert()  # type: ignore[operator]
        return (time.perf_counter() - start) / ROWS

    def save_loop() -> None:
        for post in rows(ROWS):
            post.save()

    configs = {
        "save() loop": lambda: timed(save_loop),
        "Django bulk_create(list)": lambda: timed(
            lambda: Post.objects.bulk_create(list(rows(ROWS)))
        ),
        "perfsuite bulk_create(generator of instances)": lambda: timed(
            lambda: bulk.bulk_create(Post, rows(ROWS))
        ),
        "perfsuite bulk_create(generator of dicts)": lambda: timed(
            lambda: bulk.bulk_create(Post, dicts(ROWS))
        ),
    }
    results = side_by_side(configs, 2 if QUICK else 3)
    print(table(f"Inserting {ROWS:,} posts on PostgreSQL (per row)", results, "save() loop"))
    loop = results["save() loop"]
    for name, values in list(results.items())[1:]:
        speedup = statistics.median(b / v for v, b in zip(values, loop, strict=True))
        print(f"{name}: x{speedup:.1f} faster than the save() loop")
    print()

    print("## Peak Python memory while inserting (tracemalloc)\n")
    print("| rows | perfsuite bulk_create(generator of dicts) | Django bulk_create(list) |")
    print("|---|---|---|")
    for n in (10**4, 10**5) if QUICK else (10**4, 10**5, 10**6):
        ours = peak(lambda n=n: bulk.bulk_create(Post, dicts(n)), empty)
        theirs_text = "not run: it lists the whole input"
        if n < 10**6:
            theirs = peak(
                lambda n=n: Post.objects.bulk_create(list(rows(n)), batch_size=1000), empty
            )
            theirs_text = f"{theirs / 2**20:,.1f} MiB"
        print(f"| {n:,} | {ours / 2**20:,.1f} MiB | {theirs_text} |")
    print()
    empty()

    users = [get_user_model()(username=f"writer{i}") for i in range(100)]
    get_user_model().objects.bulk_create(users)
    writers = get_user_model().objects.filter(username__startswith="writer")
    Post.objects.bulk_create(Post(author=w, title="t", body="b") for w in writers)
    client = Client()

    def page(path: str) -> float:
        loops = 5 if QUICK else 20
        start = time.perf_counter()
        for _ in range(loops):
            response = client.get(path)
        assert response.status_code == 200, response.status_code
        return (time.perf_counter() - start) / loops

    timing = {p: client.get(p)["Server-Timing"] for p in ("/posts/slow/", "/posts/slow/?fixed=1")}
    pages = {
        "/posts/slow/ (N+1)": lambda: page("/posts/slow/"),
        "/posts/slow/?fixed=1": lambda: page("/posts/slow/?fixed=1"),
    }
    assert "101 queries" in timing["/posts/slow/"], "served from a cache?"
    results = side_by_side(pages, 3 if QUICK else 7)
    print(
        table(
            "The N+1 page vs the fixed one, 100 posts, PostgreSQL",
            results,
            "/posts/slow/ (N+1)",
            unit="ms",
            scale=1e3,
        )
    )
    for path, header in timing.items():
        print(f"Server-Timing of {path}: {header}")


def peak(insert: object, empty: object) -> int:
    empty()  # type: ignore[operator]
    tracemalloc.start()
    try:
        insert()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


if __name__ == "__main__":
    main()
