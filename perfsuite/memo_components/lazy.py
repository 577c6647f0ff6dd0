"""Lazy components: registered by name with a loader, loaded by the browser after the page.

    async def load_chart_component() -> type[Component]:
        from .charts import ChartComponent          # the heavy part, imported on demand
        return ChartComponent

    register_lazy("chart", load_chart_component, fallback="Loading chart…", height=240)

``{% lazy "chart" data=points %}`` then renders a placeholder of that size and a signed
token of the props (:mod:`.lazy_tokens`); the browser fetches the component from
:mod:`.lazy_views` when the placeholder is visible (or on load). Only names registered
here can be loaded that way: a client can neither name another component nor change
the props.

A loader takes no argument and returns a :class:`~.components.Component` subclass (or
an awaitable of one: async loaders are awaited, under ASGI without a thread). The
first class a loader returns is kept for the life of the process, as the guide's
``LazyComponent`` keeps it; a failing loader is asked again on the next load.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from .components import Component

Loaded: TypeAlias = type[Component]
Loader: TypeAlias = Callable[[], "Loaded | Awaitable[Loaded]"]

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: a CSS length for the placeholder's box: a number (pixels) or one of these units
LENGTH = re.compile(r"^\d{1,5}(?:\.\d{1,3})?(?:px|r?em|%|vh|vw|ch)$")
WHEN = ("visible", "load")


class LazyLoadError(Exception):
    """Raised by a loader (or a component's render) with a message the user may read.

    Its text is shown in the error state, escaped. Any other exception shows a generic
    message (with the exception's own text while ``DEBUG`` is on) and is logged.
    """


def css_length(value: Any, what: str) -> str | None:
    """``value`` as a CSS length for a ``style`` attribute; ``TypeError`` when it is not one
    (anything but digits and a unit could smuggle CSS into the attribute)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 10**5:
        return f"{value:g}px"
    if isinstance(value, str) and LENGTH.match(value):
        return value
    raise TypeError(
        f"lazy component: {what} must be a number of pixels or a CSS length, got {value!r}"
    )


class LazyComponent:
    """A component loaded on demand: its loader, and the placeholder shown until then."""

    def __init__(
        self,
        name: str,
        loader: Loader,
        fallback: str | None = None,
        height: int | float | str | None = None,
        width: int | float | str | None = None,
        when: str = "visible",
    ) -> None:
        if not NAME.match(name):
            raise ImproperlyConfigured(
                f"lazy component name {name!r}: use letters, digits, '_', '-' or '.' (64 at most)"
            )
        if not callable(loader):
            raise ImproperlyConfigured(f"lazy component {name!r}: the loader is not callable")
        if when not in WHEN:
            raise ImproperlyConfigured(f"lazy component {name!r}: when must be one of {WHEN}")
        self.name = name
        self.loader = loader
        self.fallback: Any = gettext_lazy("Loading…") if fallback is None else fallback
        self.height = css_length(height, "height")
        self.width = css_length(width, "width")
        self.when = when
        self._component: Loaded | None = None

    def __repr__(self) -> str:
        return f"<LazyComponent {self.name!r}>"

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.loader)

    def forget(self) -> None:
        """Drop the loaded class: the next load calls the loader again."""
        self._component = None

    def _accept(self, loaded: Any) -> Loaded:
        if not (isinstance(loaded, type) and issubclass(loaded, Component)):
            raise TypeError(
                f"the loader of lazy component {self.name!r} returned {loaded!r}, "
                "not a Component subclass"
            )
        self._component = loaded
        return loaded

    def load(self) -> Loaded:
        """The component class (sync callers; an async loader runs in an event loop)."""
        if self._component is not None:
            return self._component
        loaded = self.loader()
        if inspect.isawaitable(loaded):
            loaded = asyncio.run(_awaited(loaded))
        return self._accept(loaded)

    async def aload(self) -> Loaded:
        """The component class: an async loader is awaited, a sync one runs in a thread."""
        if self._component is not None:
            return self._component
        if self.is_async:
            loaded = await self.loader()  # type: ignore[misc]
        else:
            loaded = await sync_to_async(self.loader)()
            if inspect.isawaitable(loaded):
                loaded = await loaded
        return self._accept(loaded)


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


_lazy: dict[str, LazyComponent] = {}


def register_lazy(
    name: str,
    loader: Loader | None = None,
    *,
    fallback: str | None = None,
    height: int | float | str | None = None,
    width: int | float | str | None = None,
    when: str = "visible",
) -> Any:
    """Make ``name`` loadable by ``{% lazy %}``; as a call, or as a decorator of the loader.

    ``fallback`` is the placeholder's text (autoescaped; ``{% lazy ... fallback=... %}``
    overrides it), ``height``/``width`` its box when the tag's props give none (pixels or
    a CSS length), ``when`` the default of the tag's ``when``. Registering a name again
    replaces it (a reloaded module).
    """

    def register(function: Loader) -> Loader:
        _lazy[name] = LazyComponent(name, function, fallback, height, width, when)
        return function

    if loader is None:
        return register
    register(loader)
    return _lazy[name]


def get_lazy(name: str) -> LazyComponent:
    """The lazy component registered as ``name``; ``LookupError`` when there is none."""
    try:
        return _lazy[name]
    except KeyError:
        raise LookupError(f"no lazy component is registered as {name!r}") from None


def registered_lazy() -> dict[str, LazyComponent]:
    return dict(_lazy)


def unregister_lazy(name: str) -> None:
    _lazy.pop(name, None)
