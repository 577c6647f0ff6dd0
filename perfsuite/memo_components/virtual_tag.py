"""``{% virtual_list source item_template="…" item_height=40 height=600 overscan=5 %}``.

The guide's ``VirtualScrollList`` as a tag. ``source`` is a registered source name or
an unfiltered QuerySet (:mod:`.virtual_sources`). The server renders the first window
(``ceil(height / item_height) + 2 * overscan`` rows) in a fixed-height scroll container
between spacers sized from the row count, and a page of pagination links
(``?page=N``; ``page_param`` renames it) for browsers without JavaScript;
``virtual_list.js`` hides the links and fetches further windows from the app's endpoint
as the list scrolls. Optional: ``label`` (the table's ``aria-label``).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.template import Library, Node, TemplateSyntaxError
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from perfsuite.core.conf import perf_settings

from .tag_component import parse_kwargs
from .virtual_render import (
    MAX_HEIGHT,
    Geometry,
    describe_queryset,
    item_template,
    make_token,
    render_rows,
    user_key,
)
from .virtual_sources import get_source, rows_of

SCRIPT = "perfsuite/memo_components/virtual_list.js"
DEFAULTS: dict[str, Any] = {
    "item_height": 40,
    "height": 600,
    "overscan": 5,
    "page_param": "page",
    "label": "",
}
BOUNDS = {"item_height": (1, 10_000), "height": (1, 100_000), "overscan": (0, 100)}
_ids = itertools.count(1)


class VirtualListNode(Node):
    def __init__(self, source: FilterExpression, kwargs: dict[str, FilterExpression]) -> None:
        self.source = source
        self.kwargs = kwargs

    def options(self, context: Context) -> dict[str, Any]:
        values = {**DEFAULTS, **{k: v.resolve(context) for k, v in self.kwargs.items()}}
        for key, (low, high) in BOUNDS.items():
            value = values[key]
            if isinstance(value, str) and value.isdigit():
                value = values[key] = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise TemplateSyntaxError(
                    f"{{% virtual_list %}}: {key} must be a whole number from {low} to {high}"
                )
        if not isinstance(values["item_template"], str) or not values["item_template"]:
            raise TemplateSyntaxError("{% virtual_list %}: item_template must be a template name")
        return values

    def render(self, context: Context) -> str:
        options = self.options(context)
        request = context.get("request")
        source = self.source.resolve(context)
        payload: dict[str, Any] = {"t": options["item_template"], "h": options["item_height"]}
        if isinstance(source, QuerySet):
            try:
                payload["q"] = described = describe_queryset(source)
            except TypeError as exc:
                raise TemplateSyntaxError(str(exc)) from None
            name = described["m"]
            rows = rows_of(source, None, name)
        else:
            try:
                registered = get_source(str(source))
            except LookupError as exc:
                raise TemplateSyntaxError(str(exc)) from None
            if not registered.allowed(request):
                raise PermissionDenied(f"no access to the list {registered.name!r}")
            name = payload["s"] = registered.name
            rows = registered.open(request)
        payload["u"] = user_key(request)
        geometry = Geometry(
            rows.count(), options["item_height"], options["height"], options["overscan"]
        )
        page = page_number(request, options["page_param"], geometry.pages)
        start = (page - 1) * geometry.page_size
        items = rows.window(start, min(geometry.count, start + geometry.page_size))
        engine = context.template.engine if context.template is not None else None
        template = (
            engine.get_template(options["item_template"])
            if engine is not None
            else item_template(options["item_template"])
        )
        html_rows = render_rows(template, items, start, geometry.item_height, context=context)
        try:
            url = reverse("perfsuite_components:virtual-window", args=[name])
        except NoReverseMatch:
            url = ""  # the endpoint is not routed (check W210): pagination only
        return render_to_string(
            "perfsuite/memo_components/virtual_list.html",
            {
                "id": f"ps-vlist-{next(_ids)}",
                "label": options["label"] or name,
                "geometry": geometry,
                "placed": geometry.placed(start, len(items)),
                "rows": html_rows,
                "url": url,
                "token": make_token(payload),
                "script": static(SCRIPT),
                "links": page_links(request, options["page_param"], page, geometry.pages),
                "page": page,
                "limit": MAX_HEIGHT,
                "max_window": perf_settings.VIRTUAL_MAX_WINDOW,
            },
        )


def page_number(request: Any, param: str, pages: int) -> int:
    """The ``?page=`` asked for, kept within 1..pages (anything else: 1)."""
    raw = request.GET.get(param, "") if request is not None else ""
    if not raw.isdigit() or len(raw) > 12:
        return 1
    return min(max(1, int(raw)), pages)


def page_links(request: Any, param: str, page: int, pages: int) -> list[tuple[str, str]]:
    """(label, href) of First, Previous, Next and Last; other query parameters kept."""
    if request is None or pages <= 1:
        return []
    query = request.GET.copy()
    links = []
    for label, number, shown in (
        ("First", 1, page > 1),
        ("Previous", page - 1, page > 1),
        ("Next", page + 1, page < pages),
        ("Last", pages, page < pages),
    ):
        if shown:
            query[param] = str(number)
            links.append((label, "?" + query.urlencode()))
    return links


def do_virtual_list(parser: Parser, token: Token) -> VirtualListNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError(
            '{% virtual_list %} needs a source: {% virtual_list "items" item_template="row.html" %}'
        )
    kwargs = parse_kwargs(parser, bits[2:], "virtual_list")
    unknown = sorted(set(kwargs) - set(DEFAULTS) - {"item_template"})
    if unknown:
        raise TemplateSyntaxError(f"{{% virtual_list %}} has no option {unknown[0]!r}")
    if "item_template" not in kwargs:
        raise TemplateSyntaxError("{% virtual_list %} needs item_template=")
    return VirtualListNode(parser.compile_filter(bits[1]), kwargs)


def register_virtual_list_tag(library: Library) -> None:
    library.tag("virtual_list", do_virtual_list)
