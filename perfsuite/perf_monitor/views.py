"""The Prometheus endpoint (``perfsuite.perf_monitor.urls``): never open by default.

Access is granted to staff with the ``view_dashboard`` permission (session),
to a request bearing ``Authorization: Bearer <PROMETHEUS_TOKEN>``, or to a client
address in ``PROMETHEUS_ALLOWED_IPS``. Anonymous requests are sent to the admin
login; signed-in users without the permission get 403.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

from perfsuite.core.conf import perf_settings

from .access import can_view


def _token_ok(request: HttpRequest) -> bool:
    token = perf_settings.PROMETHEUS_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token.encode())


def _ip_ok(request: HttpRequest) -> bool:
    allowed = perf_settings.PROMETHEUS_ALLOWED_IPS
    if not allowed:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(str(n), strict=False) for n in allowed)


#: set on a scrape's request: its latency is not a request of the site
#: (``PROMETHEUS_COUNT_SCRAPES`` keeps it)
SCRAPE_MARK = "_perfsuite_scrape"


@never_cache
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    if not perf_settings.PROMETHEUS_COUNT_SCRAPES:
        setattr(request, SCRAPE_MARK, True)
    user = getattr(request, "user", None)
    if not (_token_ok(request) or _ip_ok(request) or can_view(user)):
        if user is None or not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        raise PermissionDenied
    from .prometheus import exposition

    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
