"""Byte ranges (RFC 9110 §14): one range per request, 206 or 416.

:func:`parse_range` returns ``(first, last)`` (inclusive) to send a 206,
:data:`UNSATISFIABLE` for a 416, or None to ignore the header and send the whole
representation, which the RFC allows for anything it does not want to honour:
other units, several ranges, malformed specs.
"""

from __future__ import annotations

import re
from typing import Final

UNSATISFIABLE: Final = "unsatisfiable"

_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# Beyond this many digits a position is larger than any file.
_MAX_DIGITS = 18


def parse_range(value: str, size: int) -> tuple[int, int] | str | None:
    """Resolve a Range header against a representation of ``size`` bytes."""
    unit, eq, spec_list = value.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in spec_list[:8192].split(",")]
    specs = [spec for spec in specs if spec]
    if len(specs) != 1:
        return None
    m = _SPEC.fullmatch(specs[0])
    if m is None:
        return None
    first_s, last_s = m.groups()
    if not first_s:
        if not last_s:
            return None
        # suffix-range: the last N bytes.
        if len(last_s) <= _MAX_DIGITS and int(last_s) == 0:
            return UNSATISFIABLE
        if size == 0:
            return None
        length = size if len(last_s) > _MAX_DIGITS else min(int(last_s), size)
        return size - length, size - 1
    if len(first_s) > _MAX_DIGITS:
        return UNSATISFIABLE
    first = int(first_s)
    if last_s:
        last = int(last_s) if len(last_s) <= _MAX_DIGITS else 10**_MAX_DIGITS
        if last < first:
            return None
    else:
        last = size - 1
    if first >= size:
        return UNSATISFIABLE
    return first, min(last, size - 1)


def content_range(first: int, last: int, size: int) -> str:
    return f"bytes {first}-{last}/{size}"


def unsatisfied_range(size: int) -> str:
    return f"bytes */{size}"
