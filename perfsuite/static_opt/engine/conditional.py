"""Validators and preconditions (RFC 9110 §8.8, §13): ETags, HTTP dates, 304 and 412.

:func:`evaluate` applies the preconditions of a GET or HEAD in the order of
RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since (412 when false); then
If-None-Match, else If-Modified-Since (304 when false). A malformed header never
raises: an unparseable date is ignored, an unparseable entity-tag matches nothing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from email.utils import formatdate

NOT_MODIFIED = 304
PRECONDITION_FAILED = 412

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_MON = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"
_IMF = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{{2}}) {_MON} ([0-9]{{4}}) {_TIME} GMT")
_RFC850 = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"([0-9]{{2}})-{_MON}-([0-9]{{2}}) {_TIME} GMT"
)
_ASCTIME = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MON} ([ 0-9][0-9]) {_TIME} ([0-9]{{4}})")
# An entity-tag: optional weakness indicator, then a quoted opaque tag (no DQUOTE inside).
_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')

_date_cache: dict[str, int | None] = {}
_CACHE_MAX = 256


def http_date(timestamp: float) -> str:
    """An IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> int | None:
    """Epoch seconds of an HTTP-date in any of the three RFC formats; None if invalid."""
    cached = _date_cache.get(value)
    if cached is not None or value in _date_cache:
        return cached
    result = _parse_date(value.strip()) if len(value) < 64 else None
    if len(_date_cache) >= _CACHE_MAX:
        _date_cache.clear()
    _date_cache[value] = result
    return result


def _parse_date(value: str) -> int | None:
    if m := _IMF.fullmatch(value):
        day, mon, year, hh, mm, ss = m.groups()
    elif m := _RFC850.fullmatch(value):
        day, mon, yy, hh, mm, ss = m.groups()
        # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past.
        year = str(2000 + int(yy) if int(yy) < 70 else 1900 + int(yy))
    elif m := _ASCTIME.fullmatch(value):
        mon, day, hh, mm, ss, year = m.groups()
    else:
        return None
    try:
        parts = (int(year), _MONTHS[mon.lower()], int(day), int(hh), int(mm), int(ss))
        if not (1 <= parts[2] <= 31 and parts[3] < 24 and parts[4] < 60 and parts[5] < 61):
            return None
        return calendar.timegm((*parts, 0, 0, 0))
    except (ValueError, OverflowError, KeyError):
        return None


def parse_etags(value: str) -> list[tuple[bool, str]] | None:
    """``[(weak, opaque_tag), ...]`` of a list of entity-tags; None for ``*``.

    Members that are not valid entity-tags are skipped.
    """
    stripped = value.strip()
    if stripped == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos, end = 0, min(len(value), 8192)
    while pos < end:
        m = _ETAG.match(value, pos, end)
        if m is None:
            # Skip a malformed member up to the next comma.
            comma = value.find(",", pos, end)
            if comma < 0:
                break
            pos = comma + 1
            continue
        tags.append((m.group(1) is not None, m.group(2)))
        if m.end() == pos:
            break
        pos = m.end()
    return tags


def weak_match(header: str, etag: str) -> bool:
    """If-None-Match: does any listed tag (or ``*``) weakly match ``etag``?"""
    if header == etag:
        return True
    tags = parse_etags(header)
    if tags is None:
        return True
    return any(tag == etag for _weak, tag in tags)


def strong_match(header: str, etag: str) -> bool:
    """If-Match: does ``*`` or a strong listed tag strongly match ``etag``?"""
    tags = parse_etags(header)
    if tags is None:
        return True
    return any(not weak and tag == etag for weak, tag in tags)


def evaluate(environ: Mapping[str, str], etag: str | None, last_modified: int | None) -> int | None:
    """304, 412 or None (go on) for a GET/HEAD of a representation that exists."""
    if_match = environ.get("HTTP_IF_MATCH")
    if if_match is not None:
        if etag is None or not strong_match(if_match, etag):
            return PRECONDITION_FAILED
    else:
        unmodified = environ.get("HTTP_IF_UNMODIFIED_SINCE")
        if unmodified is not None and last_modified is not None:
            date = parse_http_date(unmodified)
            if date is not None and last_modified > date:
                return PRECONDITION_FAILED
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if etag is not None and weak_match(if_none_match, etag):
            return NOT_MODIFIED
        if etag is None and if_none_match.strip() == "*":
            return NOT_MODIFIED
        return None
    modified = environ.get("HTTP_IF_MODIFIED_SINCE")
    if modified is not None and last_modified is not None:
        date = parse_http_date(modified)
        if date is not None and last_modified <= date:
            return NOT_MODIFIED
    return None


def if_range_matches(value: str, etag: str | None, last_modified: str | None) -> bool:
    """If-Range (RFC 9110 §13.1.5): a strong ETag match, or the exact Last-Modified date."""
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        if etag is None or value.startswith("W/"):
            return False
        return value == etag
    if last_modified is None:
        return False
    date = parse_http_date(value)
    return date is not None and date == parse_http_date(last_modified)
