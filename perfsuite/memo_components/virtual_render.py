"""What the tag and the window endpoint share: the list's signed token, its geometry
(spacers, the scaled scroll range) and its rows' HTML.

**Token.** The tag signs (``django.core.signing``, salted) what the endpoint needs and
must not take from the browser: the source (a registered name, or the description of
an unfiltered QuerySet: model, ordering, ``only``/``defer``, ``select_related``), the
item template, the row height and the user the page was shown to. A window request
with a token of another user is refused (403); an edited or expired one is a 400.

**Geometry.** A list of ``count`` rows of ``item_height`` px is ``count * item_height``
px high, capped at :data:`MAX_HEIGHT` (browsers stop at about 16 million px). Past the
cap the scroll range is scaled: scroll position ``s`` shows row offset
``s * (total - viewport) / (cap - viewport)``, so the last row is still reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import Context, loader
from django.template.base import Template as EngineTemplate
from django.template.context import make_context
from django.utils.html import format_html

from perfsuite.core.conf import perf_settings

from .virtual_keyset import order_of

MAX_HEIGHT = 10_000_000  # px; Firefox stops near 17.9 million, Chromium near 33.5 million
SALT = "perfsuite.memo_components.virtual"
MAX_TOKEN = 2000


class BadToken(ValueError):
    pass


def user_key(request: HttpRequest | None) -> Any:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def describe_queryset(queryset: QuerySet[Any]) -> dict[str, Any]:
    """A signed-safe description of an unfiltered QuerySet; ``TypeError`` otherwise."""
    query = queryset.query
    if (
        query.where
        or query.annotations
        or query.extra
        or query.distinct
        or query.is_sliced
        or query.combinator
    ):
        raise TypeError(
            "{% virtual_list %} takes an unfiltered QuerySet (all rows of a model); register "
            "a filtered one by name with perfsuite.memo_components.virtual_sources.register_source"
        )
    fields, defer = query.deferred_loading
    related = query.select_related
    return {
        "m": queryset.model._meta.label_lower,
        "o": list(order_of(queryset, None)),
        "f": sorted(fields),
        "d": bool(defer),
        "r": related if isinstance(related, dict | bool) else False,
    }


def queryset_from(described: dict[str, Any]) -> QuerySet[Any]:
    model = apps.get_model(described["m"])
    queryset = model._base_manager.order_by(*described["o"])
    if described["f"]:
        method = queryset.defer if described["d"] else queryset.only
        queryset = method(*described["f"])
    related = described["r"]
    if related is True:
        queryset = queryset.select_related()
    elif related:
        queryset.query.select_related = related
    return queryset


def make_token(payload: dict[str, Any]) -> str:
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str | None) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN:
        raise BadToken("t must be the token of a list on a page of this site")
    try:
        data = signing.loads(token, salt=SALT, max_age=perf_settings.VIRTUAL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise BadToken("the list's token has expired: reload the page") from None
    except signing.BadSignature:
        raise BadToken("t is not the token of a list of this site") from None
    if not isinstance(data, dict):
        raise BadToken("t is not the token of a list of this site")
    return data


@dataclass(frozen=True)
class Geometry:
    count: int
    item_height: int
    height: int
    overscan: int

    @property
    def total(self) -> int:
        return self.count * self.item_height

    @property
    def virtual_height(self) -> int:
        return min(self.total, MAX_HEIGHT)

    @property
    def page_size(self) -> int:
        """Rows of the first window, and of a page without JavaScript."""
        return math.ceil(self.height / self.item_height) + 2 * self.overscan

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    def scale(self) -> float:
        room = self.virtual_height - self.height
        return (self.total - self.height) / room if room > 0 else 1.0

    def placed(self, start: int, rows: int) -> dict[str, int]:
        """Scroll position, spacers and the rows' offset for ``rows`` rows from ``start``
        (the same arithmetic as virtual_list.js)."""
        h, room = self.item_height, max(0, self.virtual_height - self.height)
        scroll = min(room, round(start * h / self.scale()))
        offset = scroll - (round(scroll * self.scale()) - start * h)
        return {
            "scroll": scroll,
            "top": max(0, offset),
            "shift": min(0, offset),
            "bottom": max(0, self.virtual_height - offset - rows * h),
        }


def item_template(name: str) -> Any:
    return loader.get_template(name)


def render_rows(
    template: Any,
    items: list[Any],
    start: int,
    item_height: int,
    context: Context | None = None,
    request: HttpRequest | None = None,
) -> list[str]:
    """One ``role=row`` element per item, its content ``template`` rendered with ``item``
    and ``index`` (0-based) in an autoescaped context."""
    engine_template = (
        template if isinstance(template, EngineTemplate) else getattr(template, "template", None)
    )
    if engine_template is not None and context is None:
        context = make_context({}, request, autoescape=True)
    rows: list[str] = []
    for i, item in enumerate(items, start):
        values = {"item": item, "index": i}
        if engine_template is not None and context is not None:
            with context.push(values):
                inner = engine_template.render(context)
        else:  # another template engine (Jinja2): its own autoescape
            inner = template.render(values, request)
        rows.append(
            format_html(
                '<div class="ps-vrow" role="row" aria-rowindex="{}" style="height:{}px">'
                '<div role="cell">{}</div></div>',
                i + 1,
                item_height,
                inner,
            )
        )
    return rows
