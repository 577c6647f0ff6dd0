"""The window endpoint of virtual lists.

``GET <components/>virtual/<source>/?start=0&end=50&t=<token>`` answers JSON::

    {"start": 0, "end": 50, "count": 100000, "rows": ["<div role=\\"row\\" ...>", ...]}

``rows`` are the rows ``[start, end)`` rendered from the list's item template (autoescaped),
``end`` cut at the row count. An unknown source, a range that is not two whole numbers
``0 <= start <= end`` with at most ``VIRTUAL_MAX_WINDOW`` rows, or a token that is not a
list's of this site answers 400 with the reason; a token shown to another user, or a
source whose permission the user lacks, 403. Never a 500 for what a client sends.
The answer is ``Cache-Control: private, no-store``; its time is recorded per source.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse, QueryDict
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from perfsuite.core.conf import perf_settings

from .metrics import record_window
from .virtual_render import BadToken, item_template, queryset_from, read_token, render_rows
from .virtual_render import user_key as user_of
from .virtual_sources import Rows, get_source, rows_of

MAX_DIGITS = 15  # 10**15 rows: past any table this endpoint will page through


class Invalid(ValueError):
    pass


def parse_range(params: QueryDict) -> tuple[int, int]:
    values = []
    for name in ("start", "end"):
        raw = params.get(name, "")
        if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS:
            raise Invalid(f"{name} must be a whole number from 0 (up to {MAX_DIGITS} digits)")
        values.append(int(raw))
    start, end = values
    if start > end:
        raise Invalid("start must not be greater than end")
    limit = perf_settings.VIRTUAL_MAX_WINDOW
    if end - start > limit:
        raise Invalid(f"a window has at most {limit} rows (VIRTUAL_MAX_WINDOW)")
    return start, end


def open_source(request: HttpRequest, name: str, token: dict[str, Any]) -> Rows:
    """The rows the token's list shows to this request; ``BadToken``/``PermissionDenied``."""
    if "q" in token:  # an unfiltered QuerySet the tag was given
        described = token["q"]
        if not isinstance(described, dict) or described.get("m") != name:
            raise BadToken("t is the token of another list")
        return rows_of(queryset_from(described), None, name)
    if token.get("s") != name:
        raise BadToken("t is the token of another list")
    source = get_source(name)
    if not source.allowed(request):
        raise PermissionDenied
    return source.open(request)


def known(name: str) -> bool:
    try:
        get_source(name)
    except LookupError:
        return name.count(".") == 1  # app_label.model: an unfiltered QuerySet's list
    return True


def error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def window(request: HttpRequest, source: str) -> JsonResponse:
    started = time.perf_counter()
    if not known(source):
        return error(400, f"no virtual list source is registered as {source!r}")
    try:
        start, end = parse_range(request.GET)
        token = read_token(request.GET.get("t"))
        if token.get("u") != user_of(request):
            return error(403, "this list was shown to another user: reload the page")
        rows = open_source(request, source, token)
        template = item_template(str(token["t"]))
        height = int(token["h"])
    except (Invalid, BadToken, LookupError, KeyError, TypeError) as exc:
        return error(400, str(exc) if isinstance(exc, ValueError) else "t is not valid")
    except PermissionDenied:
        return error(403, f"no access to the list {source!r}")
    count = rows.count()
    end = min(end, count)
    start = min(start, end)
    items = rows.window(start, end) if end > start else []
    response = JsonResponse(
        {
            "start": start,
            "end": start + len(items),
            "count": count,
            "rows": render_rows(template, items, start, height, request=request),
        }
    )
    patch_cache_control(response, private=True, no_store=True)
    record_window(source, time.perf_counter() - started)
    return response
