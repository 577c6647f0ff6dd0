"""Lazy components registered for the lazy tests, and helpers to read placeholders."""

from __future__ import annotations

import html
import re
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template, engines
from django.test import RequestFactory
from django.utils.safestring import SafeString

from perfsuite.memo_components.components import Component, Prop
from perfsuite.memo_components.lazy import LazyLoadError, register_lazy

HOSTILE = '<script>alert("x")</script>&"\'<img src=x onerror=alert(1)>'
CALLS: list[str] = []


class Inline(Component):
    """A component whose template is a string (rendered autoescaped, as a file would be)."""

    source = '<p class="greeting" style="height:{{ height }}px">Hello {{ who }}</p>'

    def render(self) -> SafeString:
        template = engines["django"].from_string(self.source)
        return SafeString(template.render(self.get_context_data()))


class Greeting(Inline):
    declared_props = {"who": Prop(str), "height": Prop(int, default=80)}


class Counting(Inline):
    """Its context queries the database: rendered off the event loop, or it raises."""

    declared_props = {"who": Prop(str)}

    def get_context_data(self) -> dict[str, Any]:
        from django.contrib.auth.models import User

        return {"who": self.props["who"], "height": User.objects.count()}


def load_greeting() -> type[Component]:
    CALLS.append("sync")
    return Greeting


async def load_greeting_async() -> type[Component]:
    CALLS.append("async")
    return Counting


def load_broken() -> type[Component]:
    raise LazyLoadError(HOSTILE)


def load_crashing() -> type[Component]:
    raise RuntimeError("secret detail")


def load_not_a_component() -> Any:
    return "<p>not a component</p>"


def register_all() -> None:
    register_lazy("t_lazy_greeting", load_greeting, fallback="Loading greeting…", height=120)
    register_lazy("t_lazy_async", load_greeting_async)
    register_lazy("t_lazy_broken", load_broken)
    register_lazy("t_lazy_crashing", load_crashing)
    register_lazy("t_lazy_not_component", load_not_a_component)


NAMES = (
    "t_lazy_greeting",
    "t_lazy_async",
    "t_lazy_broken",
    "t_lazy_crashing",
    "t_lazy_not_component",
)


def render(source: str, user: Any = None, **context: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    template = Template("{% load perfsuite_components %}" + source)
    return template.render(Context({"request": request, **context}))


def placeholder_urls(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'data-ps-lazy="([^"]+)"', page)]


def placeholder_url(page: str) -> str:
    [url] = placeholder_urls(page)
    return url
