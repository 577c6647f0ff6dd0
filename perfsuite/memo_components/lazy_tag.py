"""``{% lazy "chart" fallback="Loading chart…" when="visible" data=points %}``.

Renders a placeholder for a component registered with :func:`.lazy.register_lazy`: a
box of the size its ``height``/``width`` props give (else the registration's), so
nothing moves when the component arrives, holding the fallback text; and, once per
rendered page, the ``lazy.js`` script that loads it. ``fallback`` and ``when``
(``"visible"``: when scrolled or shown into view; ``"load"``: right after the page
loads) belong to the tag; every other argument is a prop, signed into the
placeholder's URL (:mod:`.lazy_tokens`). Everything the placeholder shows or carries
is escaped.
"""

from __future__ import annotations

from typing import Any

from django.template import Library, Node, TemplateSyntaxError
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext

from .lazy import WHEN, css_length, get_lazy
from .lazy_tokens import sign
from .tag_component import parse_kwargs

TAG_OPTIONS = ("fallback", "when")
TEMPLATE = "perfsuite/memo_components/lazy.html"
SCRIPT = "perfsuite/memo_components/lazy.js"
_SCRIPT_MARK = "perfsuite.memo_components.lazy.script"


def user_key(context: Context) -> str | None:
    """Whom the page is rendered for: the signed-in user's pk, ``None`` otherwise."""
    request = context.get("request")
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


def _first_in_page(context: Context) -> bool:
    """True the first time in one render of a page (included templates share its root)."""
    root = context.render_context.dicts[0]
    if root.get(_SCRIPT_MARK):
        return False
    root[_SCRIPT_MARK] = "done"
    return True


class LazyNode(Node):
    def __init__(self, name: FilterExpression, kwargs: dict[str, FilterExpression]) -> None:
        self.name = name
        self.options = {k: kwargs.pop(k) for k in TAG_OPTIONS if k in kwargs}
        self.kwargs = kwargs

    def render(self, context: Context) -> str:
        name = str(self.name.resolve(context))
        try:
            lazy = get_lazy(name)
        except LookupError as exc:
            raise TemplateSyntaxError(str(exc)) from None
        props = {key: value.resolve(context) for key, value in self.kwargs.items()}
        options = {key: value.resolve(context) for key, value in self.options.items()}
        when = options.get("when") or lazy.when
        if when not in WHEN:
            raise TemplateSyntaxError(
                f'{{% lazy %}} when must be "visible" or "load", got {when!r}'
            )
        fallback = options.get("fallback")
        style = [
            f"{prop}:{length}"
            for prop, length in (
                ("min-height", css_length(props.get("height"), "height") or lazy.height),
                ("min-width", css_length(props.get("width"), "width") or lazy.width),
            )
            if length
        ]
        token = sign(name, props, user_key(context))
        url = reverse("perfsuite_components:lazy", args=[name]) + "?t=" + token
        return render_to_string(
            TEMPLATE,
            {
                "name": name,
                "url": url,
                "when": when,
                "style": ";".join(style),
                "fallback": lazy.fallback if fallback is None else fallback,
                "retry_label": gettext("Retry"),
                "error_label": gettext("This part of the page could not be loaded."),
                "script": static(SCRIPT) if _first_in_page(context) else None,
            },
        )


def do_lazy(parser: Parser, token: Token) -> LazyNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError('{% lazy %} needs a component name: {% lazy "chart" %}')
    return LazyNode(parser.compile_filter(bits[1]), parse_kwargs(parser, bits[2:], "lazy"))


def register_lazy_tag(library: Library) -> Any:
    return library.tag("lazy", do_lazy)
