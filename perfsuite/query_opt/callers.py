"""Where a query was made in the user's code: the ``file:line`` a finding names.

The innermost frame outside Django, the suite, asgiref and the standard library,
below the request's middleware (:func:`request_boundary`). Two places have no such
frame on the thread that runs the query:

- a template rendered after the view returned (a ``TemplateResponse``): the template's
  own name and line, from the innermost template node being rendered;
- an ORM call awaited in async code (``await Model.objects.aget()``): the query runs in
  a ``sync_to_async`` thread; the request's task (recorded by the middleware) is
  suspended at the user's ``await``, found by following its coroutines' ``cr_await``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_SKIP = (
    os.sep + os.path.join("django", ""),
    os.sep + os.path.join("perfsuite", ""),
    os.sep + os.path.join("asgiref", ""),
    os.path.dirname(os.__file__) + os.sep,
)
#: file name -> whether its frames are skipped (a dict lookup per frame, not a scan)
_skipped: dict[str, bool] = {}
#: code of the frames where a request begins (the middleware's): the walk stops there,
#: so a query made by Django's own code is not blamed on whoever sent the request
_boundaries: set[Any] = set()
#: the deepest chain of awaits followed
MAX_AWAITS = 200


def request_boundary(*functions: Any) -> None:
    """Stop :func:`caller`'s walk at the frames of these functions."""
    _boundaries.update(f.__code__ for f in functions)


def _django_boundaries() -> None:
    """Where Django's handler begins a request (a ``TemplateResponse`` is rendered
    below it, after the view and the middleware returned), and where asgiref runs a
    sync function for async code: the frames above are the server's (or a test
    client's), never the code that made the query."""
    from asgiref.sync import SyncToAsync
    from django.core.handlers.base import BaseHandler

    request_boundary(BaseHandler.get_response, BaseHandler.get_response_async)
    request_boundary(SyncToAsync.thread_handler)


_django_boundaries()


def _skip(path: str) -> bool:
    skip = _skipped.get(path)
    if skip is None:
        skip = any(part in path for part in _SKIP) or "site-packages" in path
        if len(_skipped) < 10_000:
            _skipped[path] = skip
    return skip


def _where(path: str, line: int) -> str:
    try:
        path = os.path.relpath(path)
    except ValueError:  # another drive
        pass
    return f"{path}:{line}"


def _template(frame: Any) -> str | None:
    """The template and line a Django template frame renders (not Django's own)."""
    if frame.f_code.co_name != "render_annotated":
        return None
    node = frame.f_locals.get("self")
    origin = getattr(node, "origin", None)
    token = getattr(node, "token", None)
    name = str(getattr(origin, "name", "") or "")
    line = getattr(token, "lineno", None)
    if not name or line is None or _skip(name):
        return None
    return _where(name, line)


def _awaited(task: Any) -> str | None:
    """The innermost user frame of a suspended task's chain of awaits."""
    try:
        awaitable = task.get_coro()
    except Exception:
        return None
    found = None
    for _ in range(MAX_AWAITS):
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is None:
            break
        if not _skip(frame.f_code.co_filename):
            found = _where(frame.f_code.co_filename, frame.f_lineno)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
    return found


def caller(task: Any = None, templates: bool = False) -> str:
    """``file:line`` of the innermost frame of the user's code; with ``templates``, a
    template's name and line when no Python frame of the user's is on the stack, then
    the user's ``await`` in ``task``; ``"unknown"`` when there is none."""
    frame: Any = sys._getframe(1)
    template = None
    while frame is not None:
        code = frame.f_code
        skip = _skip(code.co_filename)
        if not skip:
            return _where(code.co_filename, frame.f_lineno)
        if code in _boundaries:
            break
        if templates and template is None:
            template = _template(frame)
        frame = frame.f_back
    if template is not None:
        return template
    if task is not None:
        return _awaited(task) or "unknown"
    return "unknown"
