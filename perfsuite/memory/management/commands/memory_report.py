"""``manage.py memory_report``: this process's memory, what grew in it (the leak
finder), and every worker's row of the Memory panel from the metrics store.

``--trace-seconds N`` takes two tracemalloc snapshots N seconds apart in this
process and shows the sites that grew in between (tracemalloc runs only for that
period unless it was running already). ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from perfsuite.core.conf import perf_settings
from perfsuite.core.metrics import registry
from perfsuite.core.stores import WINDOWS
from perfsuite.core.stores.base import process_name
from perfsuite.memory import tracing
from perfsuite.memory.manager import memory_manager
from perfsuite.memory.panels import figures

MB = 1024 * 1024


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.1f} MB"


def _size(value: int) -> str:
    """A signed size in B, KB or MB (growth sites are often small)."""
    if abs(value) < 1024:
        return f"{value:+d} B"
    if abs(value) < MB:
        return f"{value / 1024:+.1f} KB"
    return f"{value / MB:+.1f} MB"


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in counts.items()) or "none"


class Command(BaseCommand):
    help = (
        "Show this process's memory, the leak finder's growth sites and every "
        "worker's memory from the metrics store."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead")
        parser.add_argument(
            "--window", default="5m", help=f"counters over one of {', '.join(WINDOWS)}"
        )
        parser.add_argument(
            "--trace-seconds",
            type=float,
            metavar="N",
            help="snapshot tracemalloc twice, N seconds apart, and show what grew",
        )
        parser.add_argument("--top", type=int, help="growth sites shown (MEMORY_TRACE_TOP)")
        parser.add_argument("--frames", type=int, help="frames per site (MEMORY_TRACE_FRAMES)")
        parser.add_argument("--no-store", action="store_true", help="skip the workers' rows")

    def handle(self, *args: Any, **options: Any) -> None:
        window = options["window"]
        if window not in WINDOWS:
            raise CommandError(f"--window must be one of {', '.join(WINDOWS)} (got {window!r})")
        seconds = options["trace_seconds"]
        if seconds is not None and not 0 <= seconds <= 3600:
            raise CommandError("--trace-seconds takes a number of seconds from 0 to 3600")
        top = perf_settings.MEMORY_TRACE_TOP if options["top"] is None else options["top"]
        frames = options["frames"]
        if frames is None:
            frames = perf_settings.MEMORY_TRACE_FRAMES
        if top < 1 or frames < 1:
            raise CommandError("--top and --frames take a positive integer")
        data: dict[str, Any] = {
            "process": {"process": process_name(), "pid": os.getpid()},
            "tracing": {**tracing.tracer.status(), "source": "checks"},
            "store": None,
        }
        if seconds is not None:
            try:
                report = tracing.measure(seconds, frames, top)
            except Exception as exc:
                raise CommandError(f"cannot trace this process: {exc}") from exc
            data["tracing"].update(report=report.as_dict(), source="measured")
        data["process"].update(memory_manager.get_memory_usage())
        if not options["no_store"]:
            data["store"] = self.store(window)
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        self.show_process(data["process"])
        self.show_tracing(data["tracing"])
        if data["store"] is not None:
            self.show_store(data["store"])

    def store(self, window: str) -> dict[str, Any]:
        try:
            snapshot = registry.snapshot(window)
        except Exception as exc:  # the local figures are still worth printing
            return {"error": f"cannot read the metrics store: {exc}", "window": window}
        return {**figures(snapshot), "window": window, "store": snapshot.meta.get("store")}

    def show_process(self, p: dict[str, Any]) -> None:
        limit = p["container_limit_mb"]
        of = "the container's limit" if limit is not None else "this machine's RAM"
        container = "no cgroup"
        if p["container_usage_mb"] is not None:
            total = "no limit" if limit is None else f"limit {limit:.1f} MB"
            container = f"usage {p['container_usage_mb']:.1f} MB, {total}"
        uss = "-" if p["uss_mb"] is None else f"{p['uss_mb']:.1f} MB"
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"this process ({p['process']})")
            + f": RSS {p['rss_mb']:.1f} MB ({p['percent']:.1f} % of {of}), USS {uss}, "
            f"VMS {p['vms_mb']:.1f} MB, allocated blocks {p['allocated_blocks']:,}, "
            f"container {container}, tracked objects {p['tracked_objects']}"
        )

    def show_tracing(self, t: dict[str, Any]) -> None:
        report = t["report"]
        if report is None:
            state = "on" if t["enabled"] else "off"
            self.stdout.write(
                f"leak finder: MEMORY_TRACE is {state}, no growth report in this process "
                "yet (--trace-seconds N measures one here)"
            )
            return
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"growth over {report['seconds']:.1f} s")
            + f" ({report['frames']} frame(s)): RSS {_size(report['rss_diff'])}, "
            f"allocated blocks {report['allocated_blocks_diff']:+,}, "
            f"traced {_size(report['traced_diff'])}"
        )
        if not report["sites"]:
            self.stdout.write("  nothing grew")
        for site in report["sites"]:
            self.stdout.write(
                f"  {_size(site['size_diff']):>10} {site['count_diff']:>+9,} blocks "
                f"{_size(site['size'])[1:]:>9} now  {site['site']}"
            )
            for call in reversed(site["traceback"][:-1]):  # the callers, nearest first
                self.stdout.write(f"{'':>45}from {call}")

    def show_store(self, s: dict[str, Any]) -> None:
        if "error" in s:
            self.stderr.write(s["error"])
            return
        totals = s["totals"]
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"workers ({s['store']} store, window {s['window']})")
            + f": {totals['processes']} processes, RSS {_mb(totals['rss_bytes'])}; "
            f"checks {totals['checks']}; cleanups {_reasons(totals['cleanups'])}; "
            f"skipped {_reasons(totals['cleanups_skipped'])}; freed "
            f"{_mb(totals['freed_bytes'])}; recycles {_reasons(totals['recycles'])}"
        )
        rows = s["processes"]
        if not rows:
            self.stdout.write("no process has reported its memory yet")
            return
        width = max(len("process"), *(len(r["process"]) for r in rows))
        heads = ("RSS", "USS", "container", "limit", "blocks", "cleanup", "freed")
        header = f"{'process':<{width}}" + "".join(f" {h:>11}" for h in heads)
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in rows:
            age = r["last_cleanup_age_seconds"]
            cells = (
                *(_mb(r[k]) for k in ("rss_bytes", "uss_bytes", "container_usage_bytes")),
                _mb(r["container_limit_bytes"]),
                "-" if r["allocated_blocks"] is None else f"{r['allocated_blocks']:,}",
                "never" if age is None else f"{age:.0f} s ago",
                _mb(r["last_cleanup_freed_bytes"]),
            )
            self.stdout.write(f"{r['process']:<{width}}" + "".join(f" {c:>11}" for c in cells))
