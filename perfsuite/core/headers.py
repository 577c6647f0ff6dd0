"""Writing response headers the suite built itself, without Django's per-header checks.

``response["X"] = value`` encodes and validates every value (a charset check, a
newline check). The suite's own values (numbers, tokens, escaped quoted-strings,
headers stored from an earlier response) are valid by construction, so on the hot
path they go straight into Django's header store, ``ResponseHeaders._store``
(``{lower name: (Name, value)}``, since Django 3.2). That is a private attribute:
:data:`FAST` says whether it is there, every write has the public fallback, and
``tests/core/test_headers.py`` fails loudly the day Django changes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http.response import HttpResponseBase, ResponseHeaders

#: Django keeps headers in ``ResponseHeaders._store``: write there directly
FAST = isinstance(getattr(ResponseHeaders({}), "_store", None), dict)

#: a whole header store: {lower name: (Name, value)}
Store = dict[str, tuple[str, str]]


def set_header(response: HttpResponseBase, name: str, value: str) -> None:
    """Set one header whose name and value are known to be valid (ASCII, no CR/LF)."""
    if FAST:
        response.headers._store[name.lower()] = (name, value)
    else:  # pragma: no cover - a Django without ResponseHeaders._store
        response.headers[name] = value


def set_headers(response: HttpResponseBase, pairs: Iterable[tuple[str, str]]) -> None:
    """Set headers whose names and values are known to be valid (ASCII, no CR/LF)."""
    if FAST:
        store: dict[str, Any] = response.headers._store
        store.update({name.lower(): (name, value) for name, value in pairs})
    else:  # pragma: no cover - a Django without ResponseHeaders._store
        for name, value in pairs:
            response.headers[name] = value


def replace_headers(response: HttpResponseBase, store: Store) -> None:
    """Give ``response`` a copy of a prebuilt header store (validated when built)."""
    if FAST:
        response.headers._store = store.copy()
    else:  # pragma: no cover
        response.headers = ResponseHeaders(dict(store.values()))


def build_store(pairs: Iterable[tuple[str, str]]) -> Store:
    """A header store from ``(name, value)`` pairs, validated once by Django."""
    headers = ResponseHeaders(dict(pairs))
    if FAST:
        return dict(headers._store)
    return {name.lower(): (name, value) for name, value in headers.items()}  # pragma: no cover
