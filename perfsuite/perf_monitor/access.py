"""Who may see the dashboard, its feeds and the Prometheus text: one rule, one place.

Active staff with ``perfsuite_perf_monitor.view_dashboard`` (superusers have it).
Through :func:`dashboard_view`, anonymous visitors are sent to the admin login and
a signed-in user who may not look gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from perfsuite.core.access import PERMISSION, can_view

__all__ = ["PERMISSION", "can_view", "dashboard_view"]

View = Callable[..., HttpResponse]


def dashboard_view(site: AdminSite, view: View) -> View:
    """``view`` behind the admin login, ``never_cache`` and :func:`can_view` (403)."""
    inner = site.admin_view(never_cache(view))

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = getattr(request, "user", None)
        # Anonymous: admin_view sends them to the login. Signed in but not allowed
        # (admin_view would send non-staff to the login form too): 403.
        if user is not None and user.is_authenticated and not can_view(user):
            raise PermissionDenied
        return inner(request, *args, **kwargs)

    return wrapper
