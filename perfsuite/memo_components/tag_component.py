"""``{% component "name" prop=value ... %}``: render a registered component in a template.

With the name written as a literal, unknown or missing props are found when the
template is compiled (``TemplateSyntaxError`` naming the component and the prop);
a name from a variable is looked up at render time.
"""

from __future__ import annotations

from typing import Any

from django.template import Library, Node, TemplateSyntaxError
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context

from .components import get_component


class ComponentNode(Node):
    def __init__(
        self, name: FilterExpression, kwargs: dict[str, FilterExpression], cls: Any = None
    ) -> None:
        self.name = name
        self.kwargs = list(kwargs.items())
        self.cls = cls  # known when the name is a literal

    def render(self, context: Context) -> str:
        cls = self.cls
        if cls is None:
            try:
                cls = get_component(str(self.name.resolve(context)))
            except LookupError as exc:
                raise TemplateSyntaxError(str(exc)) from None
        props = {key: value.resolve(context) for key, value in self.kwargs}
        return cls(**props).render()  # a SafeString: autoescaped by its own template


def parse_kwargs(parser: Parser, bits: list[str], tag: str) -> dict[str, FilterExpression]:
    kwargs: dict[str, FilterExpression] = {}
    for bit in bits:
        key, sep, value = bit.partition("=")
        if not sep or not key.isidentifier():
            raise TemplateSyntaxError(f"{{% {tag} %}} takes name=value arguments, got {bit!r}")
        if key in kwargs:
            raise TemplateSyntaxError(f"{{% {tag} %}} got {key!r} twice")
        kwargs[key] = parser.compile_filter(value)
    return kwargs


def do_component(parser: Parser, token: Token) -> ComponentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise TemplateSyntaxError('{% component %} needs a component name: {% component "card" %}')
    name = parser.compile_filter(bits[1])
    kwargs = parse_kwargs(parser, bits[2:], "component")
    literal: Any = name.var if isinstance(name.var, str) and not name.filters else None
    cls = None
    if literal is not None and not getattr(name, "is_var", True):
        try:
            cls = get_component(literal)
            cls.check_names(set(kwargs))
        except (LookupError, TypeError) as exc:
            raise TemplateSyntaxError(str(exc)) from None
    return ComponentNode(name, kwargs, cls)


def register_component_tag(library: Library) -> None:
    library.tag("component", do_component)
