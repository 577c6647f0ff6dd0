"""The performance dashboard in Django admin: access, page, JSON feed, escaping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.test import Client

from perfsuite.core import metrics, panels
from perfsuite.perf_monitor import dashboard

SHORT = "/admin/performance/"
CHANGELIST = "/admin/perfsuite_perf_monitor/performancedashboard/"
PAGES = [SHORT, CHANGELIST]
FEEDS = [SHORT + "data.json", CHANGELIST + "data.json"]
URLS = PAGES + FEEDS

HOSTILE = "<script>alert(1)</script>"
DOCUMENTED_KEYS = {
    "window",
    "windows",
    "generated_at",
    "store",
    "processes",
    "error",
    "requests_processed",
    "total_response_time",
    "avg_response_time",
    "throughput",
    "error_rate",
    "latency",
    "memory_usage",
    "cpu_usage",
    "uptime_seconds",
    "routes",
    "slowest",
    "timeline",
    "counters",
    "metrics",
    "panels",
}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    metrics.registry.reset()
    yield
    metrics.registry.reset()


@pytest.fixture
def clean_panels() -> Iterator[None]:
    saved = dict(panels._panels)
    yield
    panels._panels.clear()
    panels._panels.update(saved)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def permitted() -> Client:
    user = User.objects.create_user("watcher", password="pw-123456", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="perfsuite_perf_monitor", codename="view_dashboard"
        )
    )
    return login(user)


@pytest.fixture
def superuser() -> Client:
    return login(User.objects.create_superuser("root", "root@example.com", "pw-123456"))


@pytest.fixture
def staff_without_permission() -> Client:
    return login(User.objects.create_user("clerk", password="pw-123456", is_staff=True))


@pytest.fixture
def non_staff() -> Client:
    return login(User.objects.create_user("shopper", password="pw-123456"))


def record_route(route: str, seconds: float = 0.01, status: str = "2xx") -> None:
    metrics.histogram("perfsuite_http_request_seconds", "", ("route", "method", "status")).labels(
        route, "GET", status
    ).observe(seconds)


# -- access -------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_the_admin_login(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("url", URLS)
def test_signed_in_non_staff_gets_403(non_staff: Client, url: str) -> None:
    assert non_staff.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_staff_without_the_permission_gets_403(staff_without_permission: Client, url: str) -> None:
    assert staff_without_permission.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_staff_with_the_permission_gets_the_page(permitted: Client, url: str) -> None:
    response = permitted.get(url)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("url", URLS)
def test_superuser_gets_the_page(superuser: Client, url: str) -> None:
    assert superuser.get(url).status_code == 200


def test_inactive_staff_is_not_let_in() -> None:
    user = User.objects.create_superuser("gone", "gone@example.com", "pw-123456")
    client = login(user)
    user.is_active = False
    user.save()
    for url in URLS:
        assert client.get(url).status_code in (302, 403)


def test_the_model_has_no_add_or_change_pages(superuser: Client) -> None:
    assert superuser.get(CHANGELIST + "add/").status_code == 404
    assert superuser.get(CHANGELIST + "1/change/").status_code == 404


def test_admin_index_lists_performance_for_permitted_staff(permitted: Client) -> None:
    response = permitted.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Performance monitor" in html
    assert f'href="{CHANGELIST}"' in html
    assert ">Performance<" in html


def test_admin_index_hides_performance_from_staff_without_permission(
    staff_without_permission: Client,
) -> None:
    html = staff_without_permission.get("/admin/").content.decode()
    assert CHANGELIST not in html
    assert "Performance monitor" not in html


# -- the page -------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_page_has_charts_window_selector_and_tables(permitted: Client, url: str) -> None:
    record_route("shop:products", 0.02)
    response = permitted.get(url)
    html = response.content.decode()
    assert "admin/base_site.html" in [t.name for t in response.templates]
    for chart in ("ps-chart-requests", "ps-chart-p95", "ps-chart-memory"):
        assert f'id="{chart}"' in html
    assert 'id="ps-window-selector"' in html
    for window in ("5m", "1h", "24h", "all"):
        assert f'data-window="{window}"' in html
    assert 'id="ps-routes"' in html
    assert 'id="ps-slowest"' in html
    assert "shop:products" in html
    assert "uPlot.iife.min.js" in html
    assert "dashboard.js" in html
    assert "cdn" not in html.lower()
    # the feed the page polls is its own sibling
    assert f'data-url="{url}data.json"' in html
    data = json.loads(re.search(r'id="ps-dashboard-data"[^>]*>(.*?)</script>', html, re.S)[1])
    assert data["routes"]["shop:products"]["count"] == 1


def test_page_breadcrumbs_and_title_sit_in_the_admin(superuser: Client) -> None:
    html = superuser.get(SHORT).content.decode()
    assert '<div class="breadcrumbs">' in html
    assert "Performance monitor" in html
    assert "<h1>Performance</h1>" in html
    assert superuser.get("/admin/perfsuite_perf_monitor/").status_code == 200


def test_page_only_inline_script_is_the_json_data(superuser: Client) -> None:
    html = superuser.get(SHORT).content.decode()
    inline = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
    assert inline == ['<script id="ps-dashboard-data" type="application/json">']
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_page_window_switch_and_bogus_window_falls_back(superuser: Client) -> None:
    html = superuser.get(SHORT + "?window=1h").content.decode()
    assert 'data-window="1h"' in html and 'aria-current="true">1h<' in html
    response = superuser.get(SHORT + "?window=bogus")
    assert response.status_code == 200
    assert 'aria-current="true">5m<' in response.content.decode()


def test_hostile_route_name_is_escaped_everywhere(superuser: Client) -> None:
    record_route(HOSTILE)
    html = superuser.get(SHORT).content.decode()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the route table
    assert "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in html  # json_script
    feed = superuser.get(SHORT + "data.json").json()
    assert HOSTILE in feed["routes"]  # JSON carries the raw name; the page escapes it


def test_panels_render_with_template_or_as_escaped_key_values(
    superuser: Client, clean_panels: None
) -> None:
    class Hostile(panels.Panel):
        id = "hostile"
        title = "Hostile <b>panel</b>"
        order = 1

        def get_stats(self, snapshot: Any) -> dict[str, Any]:
            return {HOSTILE: "<img src=x onerror=alert(1)>", "ratio": 0.123456, "nested": {"a": 1}}

    class Templated(panels.Panel):
        id = "templated"
        title = "Templated"
        template_name = "admin/perf_monitor_test_missing.html"  # missing: falls back
        order = 2

        def get_stats(self, snapshot: Any) -> dict[str, Any]:
            return {"hits": 3}

    panels.register(Hostile())
    panels.register(Templated())
    html = superuser.get(SHORT).content.decode()
    assert HOSTILE not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Hostile &lt;b&gt;panel&lt;/b&gt;" in html
    assert "0.1235" in html
    assert 'data-panel-id="templated" data-generic="1"' in html
    assert ">hits<" in html


def test_panel_template_is_included_with_its_stats(
    superuser: Client, clean_panels: None, tmp_path: Any, settings: Any
) -> None:
    folder = tmp_path / "perfsuite" / "test_panel"
    folder.mkdir(parents=True)
    (folder / "panel.html").write_text(
        '<p class="test-panel">hits <span data-panel-stat="hits">{{ stats.hits }}</span>'
        " of {{ panel.title }}</p>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]

    class WithTemplate(panels.Panel):
        id = "with_template"
        title = "With <template>"
        template_name = "perfsuite/test_panel/panel.html"

        def get_stats(self, snapshot: Any) -> dict[str, Any]:
            return {"hits": 41}

    panels.register(WithTemplate())
    html = superuser.get(SHORT).content.decode()
    assert '<span data-panel-stat="hits">41</span> of With &lt;template&gt;</p>' in html


def test_page_renders_when_the_store_fails(
    superuser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(window: str = "5m") -> dict[str, Any]:
        raise ConnectionError("Redis is down <b>")

    monkeypatch.setattr(dashboard, "dashboard_data", broken)
    response = superuser.get(SHORT)
    assert response.status_code == 200
    assert "Redis is down &lt;b&gt;" in response.content.decode()


# -- the feed -------------------------------------------------------------------


@pytest.mark.parametrize("url", FEEDS)
def test_feed_has_the_documented_keys(permitted: Client, url: str) -> None:
    record_route("shop:products", 0.05)
    record_route("shop:products", 0.5, status="5xx")
    response = permitted.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) >= DOCUMENTED_KEYS
    assert data["window"] == "5m"
    assert data["windows"] == ["5m", "1h", "24h", "all"]
    route = data["routes"]["shop:products"]
    assert route["count"] == 2 and route["errors"] == 1
    assert set(data["timeline"]) >= {"start", "requests", "p95", "memory"}
    assert sum(data["timeline"]["requests"]) >= 2


@pytest.mark.parametrize("window", ["5m", "1h", "24h", "all"])
def test_feed_windows(superuser: Client, window: str) -> None:
    response = superuser.get(SHORT + "data.json", {"window": window})
    assert response.status_code == 200
    assert response.json()["window"] == window


@pytest.mark.parametrize("url", FEEDS)
def test_feed_rejects_an_unknown_window_with_400(superuser: Client, url: str) -> None:
    response = superuser.get(url, {"window": "bogus"})
    assert response.status_code == 400
    assert "bogus" in response.json()["error"]


def test_feed_answers_503_when_the_store_fails(
    superuser: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(window: str = "5m") -> dict[str, Any]:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(dashboard, "dashboard_data", broken)
    response = superuser.get(SHORT + "data.json")
    assert response.status_code == 503
    assert "Redis is down" in response.json()["error"]


def test_vendored_static_files_are_found() -> None:
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        assert finders.find(f"perfsuite/perf_monitor/vendor/{name}")
    for name in ("dashboard.js", "dashboard.css"):
        assert finders.find(f"perfsuite/perf_monitor/{name}")
