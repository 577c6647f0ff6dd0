"""What the response cache stores, and how a stored response is served again.

One :class:`Entry` per page key holds up to :data:`MAX_VARIANTS` :class:`Variant`
objects, one per value of the request headers the page's ``Vary`` names, plus
the namespace generation and the version of every tag at the time it was stored.
An entry matches only while the generation and every tag version are unchanged:
invalidation bumps a version and never has to find the entries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.http import HttpResponse

from perfsuite.core.headers import set_header, set_headers

#: variants kept per entry (the oldest is dropped first)
MAX_VARIANTS = 8


@dataclass(slots=True)
class Variant:
    """One stored response."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes
    created: float  # epoch seconds
    fresh_until: float  # epoch seconds
    route: str  # perf_monitor's route label, for hits (no URL resolution runs)


@dataclass(slots=True)
class Entry:
    """Every stored variant of one page key and what they are valid for."""

    generation: int
    tags: dict[str, int]  # tag -> its version when stored
    vary: tuple[str, ...]  # the request headers variants are keyed on
    stale: float  # seconds a variant may be served after fresh_until
    variants: dict[tuple[str, ...], Variant] = field(default_factory=dict)

    def with_variant(self, key: tuple[str, ...], variant: Variant, old: Entry | None) -> Entry:
        """This entry plus ``old``'s variants when they are still valid alongside it."""
        if (
            old is not None
            and old.generation == self.generation
            and old.tags == self.tags
            and old.vary == self.vary
        ):
            kept = list(old.variants.items())[-(MAX_VARIANTS - 1) :]
            self.variants = {k: v for k, v in kept if k != key}
        self.variants[key] = variant
        return self


@dataclass(slots=True)
class Found:
    """The result of a lookup: the valid entry, and the variant for this request if any."""

    entry: Entry
    variant: Variant | None
    now: float = field(default_factory=time.time)

    @property
    def fresh(self) -> bool:
        return self.variant is not None and self.now < self.variant.fresh_until

    @property
    def servable_stale(self) -> bool:
        """Expired, but within the entry's stale-while-revalidate window."""
        variant = self.variant
        return variant is not None and self.now < variant.fresh_until + self.entry.stale


def match(
    value: object, generation: object, versions: dict[str, object]
) -> tuple[Entry | None, list[str]]:
    """Is ``value`` an entry valid for the current generation and tag versions?

    Returns the entry (or None) and the tags whose versions were not fetched
    (the caller fetches them and asks again).
    """
    if not isinstance(value, Entry) or generation is None or value.generation != generation:
        return None, []
    missing = [tag for tag in value.tags if tag not in versions]
    if missing:
        return value, missing
    for tag, version in value.tags.items():
        if versions[tag] != version:
            return None, []
    return value, []


def response_from(variant: Variant, now: float) -> HttpResponse:
    """A new response from a stored variant, with ``Age`` set."""
    response = HttpResponse(variant.content, status=variant.status)
    # Stored headers were validated when the response was made: restore them as is.
    set_headers(response, variant.headers)
    set_header(response, "Age", str(max(0, int(now - variant.created))))
    return response
