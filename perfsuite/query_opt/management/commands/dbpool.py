"""``manage.py dbpool``: the connection pools of every worker process, per database alias.

Per alias with a pool: its configured ``min_size``/``max_size`` (per process) and, from
the metrics store (every process with the Redis store), ``size`` and ``idle_size``
(connections open and idle now, summed over the processes that reported), clients
waiting, and over the window: connections handed out, waits, errors, lost ones.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from perfsuite.core.metrics import registry
from perfsuite.core.stores import WINDOWS

from ...checks import DEFAULT_MIN_SIZE, max_size_of
from ...pool import pool_options
from ...pool_panel import figures

#: what the text output shows, in order (the JSON has every figure)
COLUMNS = (
    ("size", "size"),
    ("min_size", "min"),
    ("max_size", "max"),
    ("idle_size", "idle"),
    ("waiting", "waiting"),
    ("requests", "requests"),
    ("wait_ms_mean", "wait ms"),
    ("errors", "errors"),
    ("connections_lost", "lost"),
)


class Command(BaseCommand):
    help = "Show the database connection pools (every worker process with the Redis store)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", help="only this alias of DATABASES")
        parser.add_argument("--window", default="5m", help=f"one of {', '.join(WINDOWS)}")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        window = options["window"]
        if window not in WINDOWS:
            raise CommandError(f"--window must be one of {', '.join(WINDOWS)} (got {window!r})")
        alias = options["database"]
        if alias is not None and alias not in settings.DATABASES:
            raise CommandError(
                f"unknown database {alias!r}; DATABASES has {', '.join(settings.DATABASES)}"
            )
        aliases = [alias] if alias is not None else list(settings.DATABASES)
        try:
            reported = {row["alias"]: row for row in figures(registry.snapshot(window))["aliases"]}
        except Exception as exc:
            raise CommandError(f"cannot read the metrics store: {exc}") from exc
        rows = [describe(a, reported.get(a)) for a in aliases]
        if options["json"]:
            self.stdout.write(json.dumps({"window": window, "databases": rows}, indent=2))
            return
        self.show(window, rows, explicit=alias is not None)

    def show(self, window: str, rows: list[dict[str, Any]], *, explicit: bool) -> None:
        pooled = [row for row in rows if row["pool"]]
        for row in rows:
            if not row["pool"] and (explicit or not pooled):
                self.stdout.write(f"{row['alias']}: {row['message']}")
        if not pooled:
            return
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"connection pools, window {window} (size, idle and waiting: now, "
                "summed over the processes that reported)"
            )
        )
        width = max(len("database"), *(len(row["alias"]) for row in pooled))
        header = f"{'database':<{width}} {'processes':>9}" + "".join(
            f" {title:>8}" for _, title in COLUMNS
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in pooled:
            cells = "".join(f" {_cell(row.get(key)):>8}" for key, _ in COLUMNS)
            self.stdout.write(f"{row['alias']:<{width}} {row['processes']:>9}{cells}")
        for row in pooled:
            if not row["processes"]:
                self.stdout.write(f"{row['alias']}: {row['message']}")


def describe(alias: str, reported: dict[str, Any] | None) -> dict[str, Any]:
    """One alias: whether it has a pool, its configured bounds and its reported figures."""
    vendor = _vendor(alias)
    options = pool_options(alias)
    if options is None:
        if vendor != "postgresql":
            message = (
                f"{vendor or 'this'} database, not PostgreSQL: Django's connection pool "
                "is PostgreSQL-only (DATABASES[alias]['OPTIONS']['pool'])"
            )
        else:
            message = "no connection pool configured (set DATABASES[alias]['OPTIONS']['pool'])"
        return {"alias": alias, "vendor": vendor, "pool": False, "message": message}
    min_size = options.get("min_size", DEFAULT_MIN_SIZE)
    row: dict[str, Any] = {
        "alias": alias,
        "vendor": vendor,
        "pool": True,
        "options": {k: v for k, v in options.items() if isinstance(v, int | float | str)},
        "processes": 0,
        "size": None,
        "idle_size": None,
        "available": None,
        "waiting": None,
    }
    if reported:
        row.update({k: v for k, v in reported.items() if k != "alias"})
    # the guide's bounds: the configured ones of one process
    row["min_size"] = min_size if isinstance(min_size, int) else DEFAULT_MIN_SIZE
    row["max_size"] = max_size_of(options)
    if reported:
        row["min_size_total"] = reported.get("min_size")
        row["max_size_total"] = reported.get("max_size")
    else:
        row["message"] = "no process has reported this pool in the window yet"
    return row


def _vendor(alias: str) -> str:
    try:
        return str(connections[alias].vendor)
    except Exception:
        return str((settings.DATABASES.get(alias) or {}).get("ENGINE", ""))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
