"""``manage.py compress_static``: precompress collected files and write the index file.

For a ``STATIC_ROOT`` collected without our storage (plain
``ManifestStaticFilesStorage``, or no manifest at all), or to redo the work with
other settings. Files listed by the manifest (or, without one, every file under
the root) get ``.zst``/``.br``/``.gz`` variants in parallel; a progress bar goes
to stdout.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from perfsuite.static_opt.conf import compress_workers, serve_options
from perfsuite.static_opt.engine.build import Builder
from perfsuite.static_opt.engine.compress import KNOWN, available
from perfsuite.static_opt.engine.index import (
    INDEX_NAME,
    manifest_names,
    read_manifest,
    scan,
    write_index_file,
)
from perfsuite.static_opt.serving import manifest_name

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Precompress static files (zstd, brotli, gzip) and write the static_opt index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--root", help="directory to compress (default: STATIC_ROOT)")
        parser.add_argument("--workers", type=int, help="compression threads (default: CPUs)")
        parser.add_argument(
            "--encodings", help=f"comma-separated codings (default: {','.join(KNOWN)})"
        )
        parser.add_argument("--min-size", type=int, help="smallest file compressed, in bytes")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="keep variants that are newer than their file instead of recompressing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = options["root"] or getattr(settings, "STATIC_ROOT", None)
        if not root:
            raise CommandError("STATIC_ROOT is not set; pass --root DIRECTORY")
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise CommandError(f"{root} is not a directory; run collectstatic first")
        opts = serve_options()
        encodings = opts.encodings
        if options["encodings"]:
            encodings = tuple(e.strip() for e in options["encodings"].split(",") if e.strip())
            unknown = [e for e in encodings if e not in KNOWN]
            if unknown:
                raise CommandError(f"unknown coding(s) {', '.join(unknown)}; use {KNOWN}")
        unavailable = [e for e in encodings if e not in available()]
        if unavailable:
            self.stderr.write(f"skipping {', '.join(unavailable)}: library not installed")
        workers = options["workers"] if options["workers"] is not None else compress_workers()
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1")
        min_size = options["min_size"] if options["min_size"] is not None else opts.min_size
        manifest = manifest_name()
        paths = read_manifest(root, manifest)
        if paths is not None:
            names = list(manifest_names(paths))
        else:
            names = [(name, False) for name in scan(root, skip=(manifest, INDEX_NAME))]
        builder = Builder(
            root,
            encodings=encodings,
            min_size=min_size,
            max_ratio=opts.max_ratio,
            workers=workers,
            force=not options["reuse"],
        )
        self._last_draw = 0.0
        records, report = builder.run(names, progress=self.progress)
        write_index_file(root, records, manifest)
        saved = report.original_bytes - report.smallest_bytes
        pct = 100 * saved / report.original_bytes if report.original_bytes else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.files} files indexed, {report.compressed} compressed "
                f"({len(report.written)} variants written, {report.reused} reused) in "
                f"{report.seconds:.2f}s; smallest variants save {saved:,} bytes ({pct:.0f} %)."
            )
        )
        if report.skipped:
            self.stdout.write(f"skipped (unreadable or outside the root): {len(report.skipped)}")

    def progress(self, done: int, total: int) -> None:
        """Draw the bar: in place on a terminal, every 10 % otherwise."""
        tty = self.stdout.isatty()
        now = time.monotonic()
        step = max(1, total // 10)
        final = done == total
        if tty and not final and now - self._last_draw < 0.1:
            return
        if not tty and not final and done % step:
            return
        self._last_draw = now
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        pct = 100 * done // total if total else 100
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {pct:3d}% {done}/{total}"
        if tty:
            self.stdout.write("\r" + bar, ending="\n" if final else "")
            self.stdout.flush()
        else:
            self.stdout.write(bar)
