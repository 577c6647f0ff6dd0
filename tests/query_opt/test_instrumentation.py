"""Per-request query counts and time, the ``db`` Server-Timing entry, and N+1 findings
with the line that ran the loop: under WSGI and ASGI, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client, override_settings

from perfsuite.core import metrics
from perfsuite.query_opt import detection
from perfsuite.query_opt.detection import NPlusOneError, NPlusOneWarning
from project.shop.models import Post
from tests.query_opt.support import MIDDLEWARE, line_of

pytestmark = [pytest.mark.urls("tests.query_opt.urls"), pytest.mark.django_db(databases="__all__")]


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    detection.recent.clear()
    metrics.registry.reset()
    conf = {"STORE": "local", "SERVER_TIMING_DETAILS": "all", "N_PLUS_ONE_MODE": "log"}
    with override_settings(MIDDLEWARE=MIDDLEWARE, PERFSUITE=conf):
        yield


def get(server: str, path: str) -> Any:
    if server == "wsgi":
        return Client().get(path)
    return async_to_sync(AsyncClient().get)(path)


def db_entry(response: Any) -> tuple[float, int]:
    match = re.search(r'db;dur=([0-9.]+);desc="(\d+) quer(?:y|ies)"', response["Server-Timing"])
    assert match, response["Server-Timing"]
    return float(match[1]), int(match[2])


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_every_query_of_a_request_is_counted_and_timed(posts: str, server: str) -> None:
    _ms, count = db_entry(get(server, "/joined/"))
    assert count == 1
    _ms, count = db_entry(get(server, "/n-plus-one/"))
    assert count == 21
    snap = metrics.registry.snapshot()
    per_request = snap.histogram("perfsuite_db_queries_per_request", route="n-plus-one/")
    assert per_request.count == 1 and per_request.sum == 21
    assert snap.histogram("perfsuite_db_query_seconds_per_request", route="joined/").count == 1


def test_async_orm_queries_land_in_the_request(posts: str) -> None:
    _ms, count = db_entry(get("asgi", "/async-orm/"))
    assert count == 2


@pytest.mark.parametrize(
    ("server", "path", "marker"),
    [
        ("wsgi", "/n-plus-one/", "N_PLUS_ONE_LINE"),
        ("asgi", "/n-plus-one/", "N_PLUS_ONE_LINE"),
        ("asgi", "/async-n-plus-one/", "def _loop"),
        ("wsgi", "/template-n-plus-one/", "TEMPLATE_N_PLUS_ONE_LINE"),
        ("asgi", "/template-n-plus-one/", "TEMPLATE_N_PLUS_ONE_LINE"),
        ("asgi", "/awaited-n-plus-one/", "AWAITED_LINE"),
    ],
)
def test_an_n_plus_one_is_found_once_with_its_line(
    posts: str, server: str, path: str, marker: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="perfsuite.query_opt"):
        assert get(server, path).status_code == 200
    findings = detection.recent_findings()
    assert len(findings) == 1
    expected = line_of(marker)
    if marker == "def _loop":  # the loop is the line after the def
        file, number = expected.rsplit(":", 1)
        expected = f"{file}:{int(number) + 1}"
    assert findings[0]["caller"] == expected
    assert findings[0]["route"] == path.strip("/") + "/"
    assert "auth_user" in findings[0]["fingerprint"]
    assert [r for r in caplog.records if "N+1" in r.getMessage()]
    snap = metrics.registry.snapshot()
    assert snap.counter_total("perfsuite_db_n_plus_one") == 1


def test_the_joined_page_and_a_silenced_loop_are_not_findings(posts: str) -> None:
    get("wsgi", "/joined/")
    get("wsgi", "/silenced/")
    assert detection.recent_findings() == []


def test_raise_mode_fails_the_request(posts: str) -> None:
    raising = {"STORE": "local", "N_PLUS_ONE_MODE": "raise"}
    with override_settings(PERFSUITE=raising), pytest.raises(NPlusOneError, match="ran 5 times"):
        Client().get("/n-plus-one/")


def test_warn_mode_and_the_allow_list(posts: str) -> None:
    warning = {"STORE": "local", "N_PLUS_ONE_MODE": "warn"}
    with override_settings(PERFSUITE=warning), pytest.warns(NPlusOneWarning):
        Client().get("/n-plus-one/")
    allowed = {"STORE": "local", "N_PLUS_ONE_MODE": "raise", "N_PLUS_ONE_ALLOW": ["n-plus-one/"]}
    with override_settings(PERFSUITE=allowed):
        assert Client().get("/n-plus-one/").status_code == 200
    with override_settings(PERFSUITE={"STORE": "local", "N_PLUS_ONE_MODE": "off"}):
        assert Client().get("/n-plus-one/").status_code == 200


def test_queries_outside_requests_are_not_recorded(posts: str) -> None:
    list(Post.objects.all()[:3])
    assert metrics.registry.snapshot().histogram("perfsuite_db_queries_per_request").count == 0


@pytest.mark.urls("project.urls")
def test_the_demo_slow_page_is_a_finding_with_its_line(posts: str) -> None:
    from django.conf import settings

    with override_settings(MIDDLEWARE=settings.MIDDLEWARE):
        raising = {"STORE": "local", "N_PLUS_ONE_MODE": "raise"}
        with override_settings(PERFSUITE=raising), pytest.raises(NPlusOneError):
            Client().get("/posts/slow/")
        assert detection.recent_findings()[0]["caller"].startswith("project/shop/views.py:")
        fast = Client().get("/posts/")
        assert fast.status_code == 200
        assert re.search(r'db;dur=[0-9.]+;desc="[1-4] quer(?:y|ies)"', fast["Server-Timing"])


def test_the_dashboard_panel_lists_routes_and_findings(posts: str) -> None:
    from django.contrib.auth.models import User

    from project.settings import MIDDLEWARE as demo_middleware

    get("wsgi", "/joined/")
    get("wsgi", "/n-plus-one/")
    staff = Client()
    staff.force_login(User.objects.create_superuser("dba", "dba@example.com", "pw"))
    with override_settings(ROOT_URLCONF="project.urls", MIDDLEWARE=demo_middleware):
        data = staff.get("/admin/performance/data.json?window=5m").json()
        page = staff.get("/admin/performance/").content.decode()
    panel = next(p for p in data["panels"] if p["id"] == "query_opt")
    stats = panel["stats"]
    assert stats["n_plus_one"] == 1
    rows = {row["route"]: row for row in stats["routes"]}
    assert rows["n-plus-one/"]["queries_mean"] == 21 and rows["n-plus-one/"]["n_plus_one"] == 1
    assert rows["joined/"]["queries_mean"] == 1
    assert stats["recent"][0]["caller"] == line_of("N_PLUS_ONE_LINE")
    site = {"kind": "n_plus_one", "route": "n-plus-one/", "caller": line_of("N_PLUS_ONE_LINE")}
    assert stats["sites"] == [{**site, "relation": "", "count": 1}], "from the store: every worker"
    assert "Database queries" in page
    assert line_of("N_PLUS_ONE_LINE") in page
