"""``Component``: a piece of HTML rendered from a Django template, with declared props.

    class ProductCard(Component):
        name = "product_card"                       # registered: {% component "product_card" %}
        template_name = "shop/components/product_card.html"
        declared_props = {"product": Prop(Product), "show_description": Prop(bool, default=True)}

    ProductCard(product=p).render()                 # as in the guide, from Python

The template renders with the props (and :meth:`Component.get_context_data`) as its
context, autoescaped: nothing a prop carries is marked safe. A missing or unknown
prop, or one of the wrong type, is a ``TypeError`` naming the component and the prop
(a ``TemplateSyntaxError`` from the template tag, when the template is compiled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.template import engines, loader
from django.utils.safestring import SafeString

REQUIRED: Any = type("REQUIRED", (), {"__repr__": lambda self: "REQUIRED"})()


class Prop:
    """One declared prop: its accepted type(s), its default (``REQUIRED`` when none) and
    whether ``None`` is accepted besides the type."""

    __slots__ = ("default", "exact", "nullable", "types")

    def __init__(
        self,
        types: type | tuple[type, ...] = object,
        default: Any = REQUIRED,
        nullable: bool = False,
    ) -> None:
        self.types = types
        self.default = default
        self.nullable = nullable
        #: types accepted at a glance (``type(value) in exact``), before isinstance()
        self.exact = frozenset(types if isinstance(types, tuple) else (types,)) - {object}

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def accepts(self, value: Any) -> bool:
        if value is None and self.nullable:
            return True
        if self.types is object:
            return True
        if isinstance(value, bool) and self.types in (int, float, (int, float)):
            return False  # True is not a number here
        return isinstance(value, self.types)

    def describe(self) -> str:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        names = " or ".join(t.__name__ for t in types)
        return f"{names} or None" if self.nullable else names


_registry: dict[str, type[Component]] = {}


def get_component(name: str) -> type[Component]:
    """The component class registered under ``name``; ``LookupError`` when there is none."""
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"no component is registered as {name!r}") from None


def registered_components() -> dict[str, type[Component]]:
    return dict(_registry)


class Component:
    #: the name it is registered under (``{% component "name" %}``); none: not registered
    name: ClassVar[str] = ""
    template_name: ClassVar[str] = ""
    #: or the template's source inline (compiled once per class)
    template: ClassVar[str] = ""
    declared_props: ClassVar[Mapping[str, Prop]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if not name:
            return
        known = _registry.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ImproperlyConfigured(
                f"component name {name!r} is taken by {known.__module__}.{known.__qualname__}"
            )
        _registry[name] = cls  # the same class defined again (a reload) replaces itself

    def __init__(self, **props: Any) -> None:
        self.props = self.check_props(props)

    @classmethod
    def label(cls) -> str:
        return cls.name or cls.__qualname__

    @classmethod
    def check_names(cls, given: set[str]) -> None:
        """``TypeError`` for an unknown or a missing prop name (values not looked at)."""
        unknown = sorted(given - set(cls.declared_props))
        if unknown:
            known = ", ".join(sorted(cls.declared_props)) or "none"
            raise TypeError(
                f"component {cls.label()!r} has no prop {unknown[0]!r} (props: {known})"
            )
        missing = sorted(n for n, p in cls.declared_props.items() if p.required and n not in given)
        if missing:
            raise TypeError(f"component {cls.label()!r} needs the prop {missing[0]!r}")

    @classmethod
    def check_props(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """The props with defaults filled in, in declared order; ``TypeError`` naming
        the prop when wrong."""
        declared = cls.declared_props
        if not given.keys() <= declared.keys():
            cls.check_names(set(given))
        props: dict[str, Any] = {}
        for name, prop in declared.items():
            if name in given:
                value = given[name]
            elif prop.default is REQUIRED:
                cls.check_names(set(given))
                value = None  # not reached: check_names raised
            else:
                value = prop.default
            if type(value) not in prop.exact and not prop.accepts(value):
                raise TypeError(
                    f"component {cls.label()!r}: prop {name!r} must be {prop.describe()}, "
                    f"got {type(value).__name__}"
                )
            props[name] = value
        return props

    def get_context_data(self) -> dict[str, Any]:
        """The template's context: the props. Override to add computed values."""
        return dict(self.props)

    @classmethod
    def get_template(cls) -> Any:
        compiled = cls.__dict__.get("_compiled")
        if compiled is not None:
            return compiled
        if cls.template:
            compiled = engines["django"].from_string(cls.template)
            cls._compiled = compiled  # type: ignore[attr-defined]
            return compiled
        if not cls.template_name:
            raise ImproperlyConfigured(
                f"component {cls.label()!r} has no template or template_name"
            )
        return loader.get_template(cls.template_name)  # the engine caches loaded templates

    def render(self) -> SafeString:
        return SafeString(self.get_template().render(self.get_context_data()))

    def __html__(self) -> str:
        return str(self.render())
