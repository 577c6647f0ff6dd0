"""The demo's N+1 page: 101 queries and a finding; ``?fixed=1`` the same page in one
query, which Server-Timing shows (to staff, as the demo's setting says)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from perfsuite.query_opt.detection import NPlusOneError
from project.shop.models import Post

pytestmark = pytest.mark.django_db(databases="__all__")
User = get_user_model()


@pytest.fixture
def staff(db_alias: str) -> Client:
    authors = [User(username=f"writer{n}") for n in range(120)]
    User.objects.bulk_create(authors)
    Post.objects.bulk_create(
        Post(author=author, title=f"post {n}", body="")
        for n, author in enumerate(User.objects.all())
    )
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def queries(response) -> int:  # type: ignore[no-untyped-def]
    found = re.search(r'db;dur=[0-9.]+;desc="(\d+) quer', response["Server-Timing"])
    assert found, (response["Server-Timing"], response.status_code, response.content[:300])
    return int(found.group(1))


def test_the_slow_page_is_101_queries_and_the_fixed_one_is_one(staff: Client) -> None:
    shown = {**settings.PERFSUITE, "SERVER_TIMING_DETAILS": "staff"}
    with override_settings(PERFSUITE=shown), pytest.raises(NPlusOneError):
        staff.get("/posts/slow/")  # the test settings raise on a finding
    with override_settings(PERFSUITE=shown):
        fixed = staff.get("/posts/slow/?fixed=1")
        assert fixed.status_code == 200 and fixed.content.decode().count('class="author"') == 100
        assert queries(fixed) <= 3, "the session, the user, the posts with their authors"
    with override_settings(PERFSUITE={**shown, "N_PLUS_ONE_MODE": "log"}):
        slow = staff.get("/posts/slow/")
        assert slow.status_code == 200
        assert queries(slow) - queries(fixed) == 100, "one query per author"
    assert "db;" not in Client().get("/posts/slow/?fixed=1")["Server-Timing"], "not to all"
