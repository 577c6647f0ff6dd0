"""``manage.py perfstats``: the dashboard's figures in the terminal."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perfsuite.core.stores import WINDOWS
from perfsuite.perf_monitor.dashboard import dashboard_data


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


class Command(BaseCommand):
    help = "Show request statistics per route (all processes with the Redis store)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--window", default="5m", help=f"one of {', '.join(WINDOWS)}")
        parser.add_argument("--json", action="store_true", help="print the JSON feed instead")
        parser.add_argument(
            "--watch", type=float, metavar="SECONDS", help="refresh every SECONDS until Ctrl-C"
        )
        parser.add_argument("--count", type=int, default=0, help="with --watch: stop after N")

    def handle(self, *args: Any, **options: Any) -> None:
        window = options["window"]
        if window not in WINDOWS:
            raise CommandError(f"--window must be one of {', '.join(WINDOWS)} (got {window!r})")
        watch = options["watch"]
        if watch is not None and watch <= 0:
            raise CommandError("--watch takes a number of seconds > 0")
        shown = 0
        try:
            while True:
                self.show(window, options["json"])
                shown += 1
                if watch is None or (options["count"] and shown >= options["count"]):
                    return
                time.sleep(watch)
        except KeyboardInterrupt:
            return

    def show(self, window: str, as_json: bool) -> None:
        try:
            data = dashboard_data(window, sample=False)
        except Exception as exc:
            raise CommandError(f"cannot read the metrics store: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        lat = data["latency"]
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"window {window}: {data['requests_processed']} requests, "
                f"{data['throughput']:.2f} req/s, errors {data['error_rate']:.1%}, "
                f"p50 {_ms(lat['p50'])} ms, p95 {_ms(lat['p95'])} ms, p99 {_ms(lat['p99'])} ms "
                f"({data['store']} store, {data['processes']} process(es))"
            )
        )
        routes = data["routes"]
        if not routes:
            self.stdout.write("no requests recorded in this window")
            return
        width = max(len("route"), *(len(r) for r in routes))
        columns = "".join(f" {c:>9}" for c in ("count", "p50 ms", "p95 ms", "p99 ms", "max ms"))
        header = f"{'route':<{width}}{columns} {'errors':>7}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for route, row in sorted(routes.items(), key=lambda kv: -kv[1]["count"]):
            self.stdout.write(
                f"{route:<{width}} {row['count']:>9} {_ms(row['p50']):>9} {_ms(row['p95']):>9} "
                f"{_ms(row['p99']):>9} {_ms(row['max']):>9} {row['error_rate']:>7.1%}"
            )
