"""Accept-Encoding (RFC 9110 §12.5.3): q-values, ``*``, ``identity`` and the choice.

``parse_accept_encoding`` turns a header into ``{coding: q}``; ``quality`` says
how acceptable one coding is; ``choose`` picks, among the variants a file has, the
acceptable one with the highest q, breaking ties by the smallest size.

Rules, with the RFC as the reference:

- no header, or an empty one: only ``identity`` is acceptable (the RFC allows any
  coding without a header, but a client that did not ask may not decode one);
- ``q=0`` refuses a coding; ``*`` stands for every coding not listed;
- ``identity`` is acceptable unless ``identity;q=0``, or ``*;q=0`` with no entry
  for ``identity``. Not listed, it ranks below every listed coding, so
  ``br;q=0.5`` still gets brotli;
- ``x-gzip`` is ``gzip``; codings are case-insensitive;
- a member with a malformed q-value is ignored; the rest of the header counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

IDENTITY = "identity"
# Below any q-value a client can write (0.001), above a refusal.
IMPLICIT_IDENTITY_Q = 0.0001

_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ALIASES = {"x-gzip": "gzip"}

_cache: dict[str | None, dict[str, float]] = {}
_CACHE_MAX = 512


class HasEncoding(Protocol):
    encoding: str
    size: int


V = TypeVar("V", bound=HasEncoding)


def parse_accept_encoding(value: str | None) -> dict[str, float]:
    """``{coding: q}`` for an Accept-Encoding value; ``{}`` when absent or empty."""
    cached = _cache.get(value)
    if cached is not None:
        return cached
    prefs: dict[str, float] = {}
    if value:
        for member in value[:4096].split(","):
            coding, _, params = member.partition(";")
            coding = coding.strip().lower()
            if not coding or not _TOKEN.fullmatch(coding):
                continue
            coding = _ALIASES.get(coding, coding)
            q = _weight(params)
            if q is None:
                continue
            # A coding listed twice keeps its lowest weight (a refusal wins).
            prefs[coding] = min(q, prefs.get(coding, q))
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[value] = prefs
    return prefs


def _weight(params: str) -> float | None:
    """The q of a member's parameters; 1.0 without one, None when malformed."""
    q = 1.0
    for param in params.split(";"):
        name, eq, raw = param.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        if name != "q" or not eq:
            return None
        raw = raw.strip()
        if not _QVALUE.fullmatch(raw):
            return None
        q = float(raw)
    return q


def quality(prefs: dict[str, float], coding: str) -> float:
    """How acceptable ``coding`` is (0 = not at all) under parsed preferences."""
    q = prefs.get(coding)
    if q is not None:
        return q
    star = prefs.get("*")
    if coding == IDENTITY:
        if star == 0.0:
            return 0.0
        return IMPLICIT_IDENTITY_Q
    return star if star is not None else 0.0


def choose(prefs: dict[str, float], variants: Sequence[V]) -> V | None:
    """The acceptable variant with the highest q, then the smallest; None if none is."""
    best: V | None = None
    best_q = 0.0
    for variant in variants:
        q = quality(prefs, variant.encoding)
        if q <= 0.0:
            continue
        if best is None or q > best_q or (q == best_q and variant.size < best.size):
            best, best_q = variant, q
    return best


def acceptable(prefs: dict[str, float], codings: Sequence[str]) -> list[str]:
    """The codings of ``codings`` the client accepts (q > 0), in the given order."""
    return [coding for coding in codings if quality(prefs, coding) > 0.0]
