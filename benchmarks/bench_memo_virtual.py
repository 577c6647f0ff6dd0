"""Virtual list windows deep in a 1,000,000-row table: keyset vs OFFSET, side by side.

    .venv/bin/python benchmarks/bench_memo_virtual.py [--quick]

A million products in SQLite (in memory, the test settings), registered as a virtual
list source ordered by ``name, pk`` (``name`` indexed). Each figure is one window of
25 rows (what ``/items/`` shows: 15 in view and 5 of overscan either side) fetched
and rendered through the whole demo middleware stack (in-process WSGI, DEBUG off):
``GET /components/virtual/<source>/?start=…&end=…&t=…`` at rows 0, 50,000 and
999,975-999,999 (the window of row 999,990, ending at the last row).
Against it: the same rows read with OFFSET (``queryset[start:end]``, what Django's
Paginator does) and rendered by the same row renderer, and by keyset the same way,
both without the HTTP stack.
The sparse key index is built before the timed runs (its time is printed).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from decimal import Decimal

from common import environ, setup_django, side_by_side, table

setup_django()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from perfsuite.memo_components.virtual_render import item_template, render_rows  # noqa: E402
from perfsuite.memo_components.virtual_sources import get_source, register_source  # noqa: E402
from project.shop.models import Product  # noqa: E402

QUICK = "--quick" in sys.argv
ROWS = 1_000_000
WINDOW = 25
# the windows of rows 0, 50,000 and 999,990; the last one ends at the last row (999,999)
POSITIONS = (0, 50_000, ROWS - WINDOW)
LOOPS = 10 if QUICK else 30
REPS = 5 if QUICK else 7


def fill() -> float:
    started = time.perf_counter()
    fields = [f for f in Product._meta.concrete_fields if not f.primary_key]
    sample = Product(name="", price=Decimal("9.99"), description="")
    values = [f.get_db_prep_save(f.pre_save(sample, True), connection) for f in fields]
    at = [f.name for f in fields].index("name")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {Product._meta.db_table} ({columns}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for batch in range(0, ROWS, 50_000):
            rows = []
            for i in range(batch, min(ROWS, batch + 50_000)):
                row = list(values)
                row[at] = f"Product {i:07d}"
                rows.append(row)
            cursor.executemany(sql, rows)
    return time.perf_counter() - started


def token() -> str:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = (
        engines["django"]
        .from_string(
            "{% load perfsuite_components %}"
            '{% virtual_list "bench" item_template="shop/items_row.html" %}'
        )
        .render({}, request)
    )
    match = re.search(r'data-token="([^"]+)"', html)
    assert match
    return match[1]


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    print(f"filled {ROWS:,} rows in {fill():.1f} s\n")
    register_source("bench", Product.objects.only("pk", "name", "price"), order=("name", "pk"))
    rows = get_source("bench").open(None)
    started = time.perf_counter()
    rows.window(ROWS - 10, ROWS)  # the count and the sparse index, once
    took = time.perf_counter() - started
    print(f"count + sparse key index (one ROW_NUMBER() query): {took:.2f} s\n")

    handler = WSGIHandler()
    t = token()
    template = item_template("shop/items_row.html")
    ordered = Product.objects.only("pk", "name", "price").order_by("name", "pk")

    def endpoint(start: int) -> float:
        query = f"start={start}&end={start + WINDOW}&t={t}"
        began = time.perf_counter()
        for _ in range(LOOPS):
            body = handler(environ("/components/virtual/bench/", query), lambda *a: None)
            b"".join(body)
            body.close()
        return (time.perf_counter() - began) / LOOPS

    def keyset(start: int) -> float:
        began = time.perf_counter()
        for _ in range(LOOPS):
            render_rows(template, rows.window(start, start + WINDOW), start, 40)
        return (time.perf_counter() - began) / LOOPS

    def offset(start: int) -> float:
        began = time.perf_counter()
        for _ in range(max(1, LOOPS // 5)):
            render_rows(template, list(ordered[start : start + WINDOW]), start, 40)
        return (time.perf_counter() - began) / max(1, LOOPS // 5)

    # the right rows, both ways
    deep = [p.name for p in rows.window(999_990, 1_000_000)]
    assert deep == [f"Product {i:07d}" for i in range(999_990, 1_000_000)], deep[:2]

    configs = {f"keyset endpoint, row {p:,}": (lambda p=p: endpoint(p)) for p in POSITIONS}
    configs.update({f"keyset read + render, row {p:,}": (lambda p=p: keyset(p)) for p in POSITIONS})
    configs.update({f"OFFSET read + render, row {p:,}": (lambda p=p: offset(p)) for p in POSITIONS})
    results = side_by_side(configs, REPS)
    first = "keyset endpoint, row 0"
    print(table(f"One {WINDOW}-row window of a {ROWS:,}-row table (per window)", results, first))
    deepest = results[f"keyset endpoint, row {ROWS - WINDOW:,}"]
    ratio = statistics.median(d / f for d, f in zip(deepest, results[first], strict=True))
    verdict = "ok" if ratio <= 1.2 else "OVER the goal"
    print(f"deepest / first window, keyset endpoint: x{ratio:.2f} (goal <= 1.2: {verdict})")
    for way in ("keyset read + render", "OFFSET read + render"):
        last, zero = results[f"{way}, row {ROWS - WINDOW:,}"], results[f"{way}, row 0"]
        way_ratio = statistics.median(d / f for d, f in zip(last, zero, strict=True))
        print(f"deepest / first window, {way}: x{way_ratio:.2f}")


if __name__ == "__main__":
    main()
