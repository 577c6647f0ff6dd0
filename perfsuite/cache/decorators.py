"""``@cache_response``: per-view caching that cannot leak one user's page.

Unlike ``cache_page`` used as a decorator, the key always holds the user (or the
one shared anonymous bucket), the language and the normalised ``Accept``, and
the never-cache rules (cookies, session changes, CSRF tokens, CSP nonces,
``private``/``no-store``) are checked on the response the view returns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.utils.cache import patch_vary_headers

from .engine import MIDDLEWARE_MARK, ResponseCache

V = TypeVar("V", bound=Callable[..., Any])


def cache_response(
    ttl: int | None = None, tags: Sequence[str] = (), vary: Sequence[str] = ()
) -> Callable[[V], V]:
    """Cache a view's responses for ``ttl`` seconds (default: the response's
    ``s-maxage``/``max-age``, else ``CACHE_DEFAULT_TTL``), under ``tags`` for
    :func:`perfsuite.cache.invalidate_tags`, varying also on the request headers
    named in ``vary``."""
    engine = ResponseCache(ttl=ttl, tags=tags, vary=vary)

    def annotate(response: Any) -> Any:
        # Under ResponseCacheMiddleware the middleware stores the page (one entry,
        # one lookup): hand it this view's TTL, tags and extra Vary.
        if response is not None:
            response.cache_ttl = ttl
            response.cache_tags = (*getattr(response, "cache_tags", ()), *tags)
            if vary:
                patch_vary_headers(response, vary)
        return response

    def decorator(view: V) -> V:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
                if getattr(request, MIDDLEWARE_MARK, False):
                    return annotate(await view(request, *args, **kwargs))

                async def call(req: Any) -> Any:
                    return await view(req, *args, **kwargs)

                return await engine.ahandle(request, call)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            if getattr(request, MIDDLEWARE_MARK, False):
                return annotate(view(request, *args, **kwargs))
            return engine.handle(request, lambda req: view(req, *args, **kwargs))

        return wrapper  # type: ignore[return-value]

    return decorator
