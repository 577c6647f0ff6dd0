"""System checks of lazy components (ids 220-229; listed in ``checks.CHECKS``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning
from django.urls import NoReverseMatch, reverse

from perfsuite.core.checks import registered_by_installed_app
from perfsuite.core.conf import perf_settings

from .lazy import registered_lazy

#: gunicorn's default limit_request_line is 4094 bytes (method, path, query, version)
URL_BUDGET = 4000


def check_token_length(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W220: ``LAZY_MAX_TOKEN_LENGTH`` lets load URLs grow past what servers accept."""
    length = perf_settings.LAZY_MAX_TOKEN_LENGTH
    if length <= URL_BUDGET:
        return []
    return [
        Warning(
            f"PERFSUITE['LAZY_MAX_TOKEN_LENGTH'] is {length}: lazy load URLs that long are "
            "refused by gunicorn's default request-line limit (4094 bytes) and by some "
            "proxies, and the component then never loads.",
            hint=f"Keep it at {URL_BUDGET} or less and pass ids rather than data as props.",
            id="perfsuite.W220",
        )
    ]


def check_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W221: lazy components are registered but the app's URLs are not included."""
    try:
        reverse("perfsuite_components:lazy", args=["x"])
    except NoReverseMatch:
        pass
    except Exception:  # a URLconf that does not import: Django's own URL checks say so
        return []
    else:
        return []
    names = sorted(  # the URLconf is imported by now: its registrations too
        name
        for name, lazy in registered_lazy().items()
        if registered_by_installed_app(getattr(lazy.loader, "__module__", "") or "")
    )
    if not names:
        return []
    return [
        Warning(
            f"lazy components are registered ({', '.join(names[:5])}) but the URLs of "
            "perfsuite.memo_components are not included: {% lazy %} cannot render.",
            hint='Add path("components/", include("perfsuite.memo_components.urls")) to '
            "your ROOT_URLCONF.",
            id="perfsuite.W221",
        )
    ]


LAZY_CHECKS: tuple[Any, ...] = (check_token_length, check_urls)
