"""The guide's ``StaticAssetOptimizer``, for a view that serves a directory itself.

    optimizer = StaticAssetOptimizer(settings.BASE_DIR / "downloads", {"cache_max_age": 3600})

    def download(request, path):
        return optimizer.serve_static_file(path, request)

``optimize_config`` keys (the guide's, mapped onto the middleware's behaviour):

- ``enable_gzip`` (True): produce and serve compressed variants at all (zstd,
  brotli and gzip, negotiated from Accept-Encoding);
- ``enable_etags`` (True): send ETags and answer If-None-Match with 304;
- ``cache_max_age`` (31536000): max-age of content-hashed names (immutable);
  other names get ``max_age`` (default ``PERFSUITE["STATIC_MAX_AGE"]``);
- ``gzip_threshold`` (``STATIC_COMPRESS_MIN_SIZE``, 1024): smallest file compressed.

The directory is indexed once, when the optimizer is created (from its manifest
or index file when it has one). ``file_path`` is a relative POSIX path; only
indexed files are served, anything else is a 404. The response is the same as
the middleware's (ranges, 304, streaming for large files under WSGI and ASGI),
so the method works in sync and async views alike.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponseNotFound
from django.http.response import HttpResponseBase

from .conf import serve_options
from .serving import StaticFiles

_KNOWN = {"enable_gzip", "enable_etags", "cache_max_age", "gzip_threshold", "max_age"}


class StaticAssetOptimizer:
    """Serve the files of one directory with the middleware's header logic."""

    def __init__(
        self, static_dir: str | os.PathLike[str], optimize_config: dict[str, Any] | None = None
    ) -> None:
        config = dict(optimize_config or {})
        unknown = set(config) - _KNOWN
        if unknown:
            raise ValueError(f"unknown optimize_config keys: {', '.join(sorted(unknown))}")
        overrides: dict[str, Any] = {"etags": bool(config.get("enable_etags", True))}
        if not config.get("enable_gzip", True):
            overrides["encodings"] = ()
            overrides["dynamic_compression"] = False
        if "cache_max_age" in config:
            overrides["immutable_max_age"] = int(config["cache_max_age"])
        if "max_age" in config:
            overrides["max_age"] = int(config["max_age"])
        if "gzip_threshold" in config:
            overrides["min_size"] = int(config["gzip_threshold"])
        self.static_dir = os.fspath(static_dir)
        self.config = config
        self.server = StaticFiles(self.static_dir, options=serve_options(**overrides))

    def serve_static_file(self, file_path: str, request: HttpRequest) -> HttpResponseBase:
        """The response for ``file_path`` (relative to the directory), or a 404."""
        response = self.server.serve(str(file_path), request)
        if response is None:
            return HttpResponseNotFound(b"File not found", content_type="text/plain")
        return response
