"""The Django side of serving: settings, finders (DEBUG), responses and metrics.

:class:`StaticFiles` holds an engine :class:`~.engine.responder.Responder` built
once from ``STATIC_ROOT`` (manifest or index file), adds the staticfiles finders
when ``DEBUG`` is on (a file added while the server runs is found on its first
request; an edited one is re-read), and turns outcomes into responses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.module_loading import import_string

from . import metrics
from .conf import serve_options
from .engine import index
from .engine.assets import Asset, ServeOptions, is_canonical
from .engine.responder import Outcome, Responder, StaleFile
from .responses import make_response

logger = logging.getLogger("perfsuite.static_opt")

_MAX_LIVE = 10000
T = TypeVar("T")


def static_prefix() -> str:
    """The URL path static files live under (``/static/``), or "" when there is none."""
    url = getattr(settings, "STATIC_URL", None) or ""
    path = urlsplit(str(url)).path
    script = getattr(settings, "FORCE_SCRIPT_NAME", None)
    if script and path.startswith(script.rstrip("/") + "/"):
        path = path[len(script.rstrip("/")) :]
    if not path:
        return ""
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def manifest_name() -> str:
    """The manifest file name of the configured staticfiles storage class.

    Read from the class, not an instance: instantiating a manifest storage parses
    the whole manifest, which start-up does not need.
    """
    try:
        backend = settings.STORAGES["staticfiles"]["BACKEND"]
        return str(getattr(import_string(backend), "manifest_name", index.MANIFEST_NAME))
    except Exception:
        return index.MANIFEST_NAME


class StaticFiles:
    """This project's static files: the index, the finders in DEBUG, the responder."""

    def __init__(
        self,
        root: str | None,
        *,
        options: ServeOptions,
        debug: bool = False,
        prefix: str = "",
        manifest: str = index.MANIFEST_NAME,
    ) -> None:
        self.prefix = prefix
        self.debug = debug
        assets, self.source = index.load(root, manifest) if root else ({}, "missing")
        self.responder = Responder(root, assets, options)
        self.assets = assets
        self.live: dict[str, Asset] = {}
        self.finder_roots: list[str] = _finder_roots() if debug else []

    @classmethod
    def from_settings(cls) -> StaticFiles | None:
        """The server for this project, or None when there is nothing to serve."""
        prefix = static_prefix()
        if not prefix:
            return None
        root = getattr(settings, "STATIC_ROOT", None)
        debug = bool(settings.DEBUG)
        server = cls(
            os.fspath(root) if root else None,
            options=serve_options(),
            debug=debug,
            prefix=prefix,
            manifest=manifest_name(),
        )
        if not server.assets and not debug:
            # Check W603 reports this; a log line per middleware init would be noise.
            logger.debug("static_opt: no static files under STATIC_ROOT (%s)", root)
            return None
        return server

    # -- finding -------------------------------------------------------------
    def find(self, name: str) -> Asset | None:
        if self.debug:
            asset = self.live.get(name) or self._from_finders(name)
            if asset is not None:
                return asset
        return self.assets.get(name)

    def _from_finders(self, name: str) -> Asset | None:
        if not is_canonical(name):
            return None
        from django.contrib.staticfiles import finders

        found = finders.find(name)
        if not found or not isinstance(found, str):
            return None
        real = os.path.realpath(found)
        root = next((r for r in self.finder_roots if real.startswith(r + os.sep)), None)
        if root is None:
            logger.warning("static_opt: %s resolves outside the finders' roots", name)
            return None
        asset = Asset(name, found)
        asset.live = True
        asset.root = root
        if len(self.live) >= _MAX_LIVE:
            self.live.clear()
        self.live[name] = asset
        return asset

    # -- serving -------------------------------------------------------------
    def serve(self, name: str, request: HttpRequest) -> HttpResponseBase | None:
        """The response for static file ``name``, or None when it is not served."""
        responder = self.responder
        return self.serve_with(
            name,
            request.method or "GET",
            request.META,
            lambda outcome: make_response(responder, outcome, request),
        )

    def serve_with(
        self, name: str, method: str, meta: Mapping[str, Any], build: Callable[[Outcome], T]
    ) -> T | None:
        """``build(outcome)`` for static file ``name`` (a Django response, a front-door
        answer), or None when it is not served. ``build`` raises StaleFile when the
        file changed on disk: it is read again and built once more."""
        asset = self.assets.get(name) if not self.debug else self.find(name)
        if asset is None:
            return None
        responder = self.responder
        for _attempt in range(2):
            outcome = responder.respond(asset, method, meta)  # type: ignore[arg-type]
            if outcome is None:
                self.live.pop(name, None)
                return None
            try:
                built = build(outcome)
            except StaleFile:
                responder.invalidate(asset)
                continue
            record(outcome)
            return built
        return None


def record(outcome: Outcome) -> None:
    """Count a served outcome (status, coding, bytes, bytes saved by compression)."""
    variant = outcome.variant
    if variant is None:
        metrics.record(outcome.status, "-", 0, 0)
        return
    saved = 0
    if outcome.status == 200 and outcome.length and variant.encoding != "identity":
        identity = variant.asset.identity
        saved = identity.size - variant.size if identity is not None else 0
    metrics.record(outcome.status, variant.encoding, outcome.length, saved)


def _finder_roots() -> list[str]:
    from django.contrib.staticfiles import finders

    roots: set[str] = set()
    for finder in finders.get_finders():
        storages: Any = getattr(finder, "storages", {}) or {}
        for storage in storages.values():
            location = getattr(storage, "location", None)
            if location:
                roots.add(os.path.realpath(location))
    return sorted(roots)
