"""Text search and keyset cursors for ``OptimizedQuerySet.search``.

On PostgreSQL a term matches through full-text search over a ``SearchVector`` of the
name fields (each word a prefix: ``ali`` finds ``Alice``) or, for a misspelt name,
trigram word similarity on the username (``allice`` finds ``alice``); both are served
by GIN indexes that :class:`perfsuite.query_opt.operations.CreateSearchIndexes`
creates. Elsewhere (SQLite) it is ``icontains`` on the same fields.

A cursor is the sort key of the last row shown, signed with ``SECRET_KEY``
(``django.core.signing``): a client can hand it back, never forge or edit it.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
from django.core import signing
from django.db import connections
from django.db.models import F, Q, QuerySet, Value

#: the text search configuration: "simple" neither stems nor drops words (names)
CONFIG = "simple"
MAX_TERMS = 8
MAX_CURSOR = 1024
SALT = "perfsuite.query_opt.search.cursor"

_trigram: dict[tuple[str, str], bool] = {}


def name_vector(fields: tuple[str, ...]) -> SearchVector:
    """The expression the full-text GIN index is built on (the query uses the same)."""
    return SearchVector(*fields, config=CONFIG)


def terms(text: str) -> list[str]:
    """The words of a search, safe to put in a raw ``tsquery`` (letters, digits, _)."""
    return re.findall(r"\w+", text)[:MAX_TERMS]


def text_filter(
    queryset: QuerySet[Any], text: str, fields: tuple[str, ...], trigram_field: str | None
) -> QuerySet[Any]:
    """``queryset`` narrowed to rows whose ``fields`` match every word of ``text`` (all
    rows for an empty search, none for one without a word: ``"%_"``)."""
    words = terms(text)
    if not words:
        return queryset if not text.strip() else queryset.none()
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        condition = Q()
        for word in words:
            one = Q()
            for field in fields:
                one |= Q(**{f"{field}__icontains": word})
            condition &= one
        return queryset.filter(condition)
    prefixes = " & ".join(f"{word}:*" for word in words)
    query = SearchQuery(prefixes, search_type="raw", config=CONFIG)
    condition = Q(SearchVectorExact(name_vector(fields), query))
    if trigram_field and has_trigram(queryset.db):
        condition |= Q(TrigramWordSimilar(F(trigram_field), Value(" ".join(words))))
    return queryset.filter(condition)


def has_trigram(alias: str) -> bool:
    """Whether ``pg_trgm`` is installed in the database of ``alias`` (asked once)."""
    connection = connections[alias]
    key = (alias, str(connection.settings_dict.get("NAME")))
    known = _trigram.get(key)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            known = _trigram[key] = cursor.fetchone() is not None
    return known


def forget_trigram() -> None:
    """Ask again (after a migration installed the extension, in tests)."""
    _trigram.clear()


# -- keyset cursors ----------------------------------------------------------------------
def make_cursor(row: Any, order: tuple[str, ...], text: str, page: int) -> str:
    key = [_plain(_attr(row, field)) for field in order]
    return signing.dumps({"k": key, "q": text, "p": page}, salt=SALT, compress=True)


def read_cursor(cursor: Any, text: str) -> tuple[list[Any], int]:
    """The sort key and page number a cursor carries; ValueError when it is not ours."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR:
        raise ValueError("cursor must be the next_cursor of an earlier result")
    try:
        data = signing.loads(cursor, salt=SALT)
    except signing.BadSignature:
        raise ValueError("cursor is invalid: it was not issued by this site") from None
    if data.get("q") != text:
        raise ValueError("cursor belongs to another search: start again without it")
    return list(data["k"]), int(data["p"])


def after(queryset: QuerySet[Any], order: tuple[str, ...], key: list[Any]) -> QuerySet[Any]:
    """Rows strictly after ``key`` in ascending ``order`` (a keyset condition)."""
    if len(key) != len(order):
        raise ValueError("cursor is invalid: it was not issued by this site")
    condition = Q()
    for i, field in enumerate(order):
        step = Q(**{f"{field}__gt": key[i]})
        for prior, value in zip(order[:i], key[:i], strict=True):
            step &= Q(**{prior: value})
        condition |= step
    return queryset.filter(condition)


def _attr(row: Any, field: str) -> Any:
    return row.pk if field == "pk" else getattr(row, field)


def _plain(value: Any) -> Any:
    """A JSON-safe key part (ints and strings stay what they are)."""
    return value if isinstance(value, (int, str)) or value is None else str(value)
