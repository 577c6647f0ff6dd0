"""``CompressedManifestStaticFilesStorage``: Django's manifest storage, plus compression.

After ``ManifestStaticFilesStorage`` has hashed the files and written
``staticfiles.json``, every compressible file (original and hashed names) of at
least ``STATIC_COMPRESS_MIN_SIZE`` bytes gets ``.zst``, ``.br`` and ``.gz``
siblings, compressed in parallel by a thread pool (each kept only when smaller
than ``STATIC_COMPRESS_MAX_RATIO`` of the original), and
``staticfiles.perfsuite.json`` records every file's size, ETag and variants so
the middleware starts without a stat per file.

A name the manifest does not know (``collectstatic`` not run yet, or run before
the file was added) renders with its plain URL and logs a warning, instead of
Django's ``ValueError`` turning every page into a 500; set
``fallback_to_plain_names = False`` on a subclass for Django's strict behaviour.

    STORAGES = {
        "staticfiles": {
            "BACKEND": "perfsuite.static_opt.storage.CompressedManifestStaticFilesStorage",
        },
    }
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

from .conf import compress_workers, serve_options
from .engine.build import Builder, BuildReport
from .engine.index import manifest_names, write_index_file

logger = logging.getLogger("perfsuite.static_opt")


class CompressedManifestStaticFilesStorage(ManifestStaticFilesStorage):
    #: the report of the last compression (for tests and tooling)
    last_report: BuildReport | None = None
    #: render unknown names with their plain URL (and a warning) instead of raising
    fallback_to_plain_names = True
    _warned: set[str] | None = None

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            if not self.fallback_to_plain_names:
                raise
        warned = self._warned
        if warned is None:
            warned = self._warned = set()
            if not self.hashed_files:
                logger.warning(
                    "static_opt: no staticfiles manifest in %s; static URLs use plain names "
                    "until `manage.py collectstatic` runs",
                    self.location,
                )
        if self.hashed_files and name not in warned and len(warned) < 1000:
            warned.add(name)
            logger.warning(
                "static_opt: %r is not in the staticfiles manifest; using its plain name "
                "(run `manage.py collectstatic`)",
                name,
            )
        return name

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from super().post_process(*args, **kwargs)
        if kwargs.get("dry_run"):
            return
        yield from self.compress_all()

    def compress_all(self) -> Iterator[tuple[str, str, bool]]:
        """Compress every file the manifest lists and write the index file."""
        opts = serve_options()
        builder = Builder(
            str(self.location),
            encodings=opts.encodings,
            min_size=opts.min_size,
            max_ratio=opts.max_ratio,
            workers=compress_workers(),
        )
        names = {self.clean_name(k): v for k, v in self.hashed_files.items()}
        records, report = builder.run(manifest_names(names))
        write_index_file(str(self.location), records, self.manifest_name)
        self.last_report = report
        for name, variant in sorted(report.written):
            yield name, variant, True
