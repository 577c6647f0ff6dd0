"""The response cache's system checks (ids in docs/checks.md)."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_checks_for_alias_and_order() -> None:
    from django.conf import settings

    with override_settings(PERFSUITE={"CACHE_ALIAS": "nope"}):
        assert "perfsuite.E501" in [m.id for m in run_checks()]
    others = [m for m in settings.MIDDLEWARE if "ResponseCache" not in m]
    cache_mw = "perfsuite.cache.middleware.ResponseCacheMiddleware"
    session = others.index("django.contrib.sessions.middleware.SessionMiddleware")
    between = [*others[: session + 1], cache_mw, *others[session + 1 :]]
    with override_settings(MIDDLEWARE=between):
        assert "perfsuite.W501" in [m.id for m in run_checks()]
    front = [others[0], cache_mw, *others[1:]]  # before all of them: a valid choice
    with override_settings(MIDDLEWARE=front):
        assert "perfsuite.W501" not in [m.id for m in run_checks()]
