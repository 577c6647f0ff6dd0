"""The load endpoint of lazy components: ``GET /components/lazy/<name>/?t=<token>``.

An async view: under ASGI an async loader is awaited on the event loop, and only the
template render (which may touch the ORM) runs in Django's sync thread; under WSGI
Django runs it through ``async_to_sync``. Answers:

- 200, the component's HTML (autoescaped by its template);
- 404 for a name not registered as lazy, 400 for a forged, tampered or too long
  token, 410 for an expired one, 403 for one rendered for another user: plain text,
  never a 500, nothing counted;
- 503 when the loader or the render fails: plain text the script shows escaped, next
  to a retry button; counted (``perfsuite_component_lazy_loads{result="error"}``) and
  logged.

Never cached anywhere (the props may be one user's).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from .components import Component
from .lazy import LazyComponent, LazyLoadError, get_lazy
from .lazy_tokens import BadToken, unsign
from .metrics import record_lazy_load

logger = logging.getLogger(__name__)


def _plain(message: str, status: int) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response


async def _user_key(request: HttpRequest) -> str | None:
    auser = getattr(request, "auser", None)  # set by AuthenticationMiddleware
    if auser is None:
        return None
    user = await auser()
    return str(user.pk) if user.is_authenticated else None


def _render(component: type[Component], props: dict[str, Any]) -> str:
    return str(component(**props).render())


def _load_and_render(lazy: LazyComponent, props: dict[str, Any]) -> str:
    return _render(lazy.load(), props)


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, LazyLoadError):
        return str(exc)
    message = gettext("This part of the page could not be loaded.")
    if settings.DEBUG:
        message += f" ({type(exc).__name__}: {exc})"
    return message


@require_GET
async def load(request: HttpRequest, name: str) -> HttpResponse:
    try:
        lazy = get_lazy(name)
    except LookupError:
        return _plain("No such lazy component.", 404)
    try:
        props = unsign(name, request.GET.get("t", ""), await _user_key(request))
    except BadToken as exc:
        return _plain(str(exc), exc.status)
    try:
        if lazy.is_async:
            component = await lazy.aload()
            html = await sync_to_async(_render)(component, props)
        else:  # one trip to the sync thread for the loader and the render
            html = await sync_to_async(_load_and_render)(lazy, props)
    except Exception as exc:
        log = logger.warning if isinstance(exc, LazyLoadError) else logger.exception
        log("lazy component %r failed to load: %s", name, exc)
        record_lazy_load(name, ok=False)
        return _plain(_failure_message(exc), 503)
    record_lazy_load(name, ok=True)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    add_never_cache_headers(response)
    return response
