"""The response cache's panel on the performance dashboard."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_dashboard_shows_the_hit_ratio(client: Client) -> None:
    from perfsuite.core import metrics

    metrics.registry.reset()
    for _ in range(4):
        client.get("/products/")
    staff = Client()
    staff.force_login(User.objects.create_superuser("boss", "b@example.com", "pw"))
    data = staff.get("/admin/performance/data.json?window=5m").json()
    panel = next(p for p in data["panels"] if p["id"] == "cache")
    assert panel["stats"]["hits"] == 3
    assert panel["stats"]["misses"] == 1
    assert panel["stats"]["hit_ratio"] == 0.75
    page = staff.get("/admin/performance/")
    assert b"Response cache" in page.content
    assert b"75 %" in page.content
