"""Step 4 of the response cache's request path: may the response be stored, and as what.

:func:`prepare` applies :mod:`.policy` to the rendered response and builds the
variant; :func:`entry` checks the tag versions read before the render against
the ones read at store time and builds the entry. No I/O here: :mod:`.engine`
reads the versions and writes the entry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers, set_response_etag

from perfsuite.core import timing

from . import keyparts, keys, metrics, policy
from .entries import Entry, Found, Variant
from .keys import generation_key, path_tag, tag_key
from .steps import Plan, count_failure

logger = logging.getLogger("perfsuite.cache")

#: headers never stored with a response
UNSTORED_HEADERS = frozenset(
    ("set-cookie", "x-cache", "cache-status", "age", "x-response-time", "server-timing")
)


@dataclass(slots=True)
class Prepared:
    """A response that may be stored, in the form it is stored in."""

    variant: Variant
    variant_key: tuple[str, ...]
    vary: tuple[str, ...]
    tags: tuple[str, ...]
    ttl: int
    stale: float

    @property
    def lifetime(self) -> int:
        return int(self.ttl + self.stale) + 1

    @property
    def version_keys(self) -> list[str]:
        return [generation_key(), *(tag_key(t) for t in self.tags)]


def prepare(plan: Plan, request: HttpRequest, response: HttpResponseBase) -> Prepared | str:
    """The response as it would be stored, or the reason it may not be."""
    conf = plan.conf
    status_ttls = conf["CACHE_STATUS_TTLS"]
    reason = policy.uncacheable_reason(request, response, status_ttls)
    directives = policy.cache_control(response.headers.get("Cache-Control"))
    ttl = plan.engine.ttl if plan.engine.ttl is not None else getattr(response, "cache_ttl", None)
    if ttl is None:
        ttl = policy.ttl_for(directives, conf["CACHE_DEFAULT_TTL"], conf["CACHE_MAX_TTL"])
    if reason is None:
        cap = status_ttls.get(response.status_code)
        if cap is not None:
            ttl = min(ttl, cap)
        if ttl <= 0:
            reason = "ttl-zero"
    if reason is None and not isinstance(response, HttpResponse):
        reason = "unsupported"
    if reason is not None:
        return reason
    assert isinstance(response, HttpResponse)
    if not response.has_header("ETag"):
        set_response_etag(response)
    vary = keyparts.vary_headers(response)
    if policy.csrf_used(request):
        vary = (*vary, keyparts.CSRF_VARY)  # the token is valid for this CSRF cookie only
    # Downstream caches (a CDN) must keep users apart too: hits carry the same Vary.
    patch_vary_headers(response, ("Cookie",))
    route = timing.route_of(request)
    now = time.time()
    headers = [(k, v) for k, v in response.items() if k.lower() not in UNSTORED_HEADERS]
    variant = Variant(response.status_code, headers, response.content, now, now + ttl, route)
    tags = (*plan.engine.tags, *getattr(response, "cache_tags", ()), path_tag(request.path))
    return Prepared(
        variant,
        keyparts.vary_values(request, vary, plan.ignored_cookies),
        vary,
        tuple(dict.fromkeys(tags)),
        int(ttl),
        policy.stale_window(directives, conf["CACHE_STALE_WHILE_REVALIDATE"]),
    )


def entry(
    prepared: Prepared, current: dict[str, Any], seen: dict[str, Any], found: Found | None
) -> Entry | str:
    """The entry to store, or why not: a version read before the render has changed
    (the page was invalidated while it rendered, so it may show the old data)."""
    for key in prepared.version_keys:
        if key not in current:
            return "backend-error"
        if key in seen and seen[key] != current[key]:
            return "invalidated"
    new = Entry(
        generation=current[generation_key()],
        tags={t: current[tag_key(t)] for t in prepared.tags},
        vary=prepared.vary,
        stale=prepared.stale,
    )
    old = found.entry if found is not None else None
    return new.with_variant(prepared.variant_key, prepared.variant, old)


def stored(plan: Plan, prepared: Prepared) -> int:
    keys.remember_tags(plan.key.path, prepared.tags)
    return prepared.ttl


def not_stored(request: HttpRequest, reason: str) -> str:
    metrics.record_not_stored(timing.route_of(request), reason)
    return reason


def store_failed(request: HttpRequest, exc: Exception) -> str:
    count_failure(exc)
    logger.warning("response cache could not store %s: %s", request.path, exc)
    return "backend-error"
