"""The performance dashboard in a real browser (Debian's chromium through Playwright).

Skipped with the reason when /usr/bin/chromium or the playwright package is
missing, failed instead under ``PERFSUITE_REQUIRE_SERVICES=1`` (CI). Never run
``playwright install``: the browser is the distribution's.

A screenshot of the dashboard is left at ``/tmp/dashboard.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from perfsuite.core import metrics
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright

SCREENSHOT = "/tmp/dashboard.png"
MIDDLEWARE = "perfsuite.perf_monitor.middleware.PerformanceMiddleware"
PASSWORD = "browser-pw-123456"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def route_cells(page: Any) -> list[str]:
    return page.locator("#ps-routes tbody th.ps-route").all_text_contents()


def test_dashboard_in_a_browser(live_server: Any) -> None:
    playwright_context = sync_playwright()  # skips before touching the database
    # All ORM work before Playwright starts: its sync API runs an event loop in
    # this thread, and Django refuses ORM calls while one is running.
    metrics.registry.reset()
    call_command("seed_demo", products=30, users=2, posts=5, verbosity=0)
    User.objects.create_superuser("browser", "browser@example.com", PASSWORD)
    base = live_server.url

    with playwright_context as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # Traffic for the dashboard to show.
            for path in ("/", "/products/", "/products/?page=2", "/posts/"):
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path

            # Server-Timing reaches the browser (a secure context: localhost).
            if MIDDLEWARE in settings.MIDDLEWARE:
                page.goto(base + "/products/")
                names = page.evaluate(
                    "() => performance.getEntriesByType('navigation')[0]"
                    ".serverTiming.map(e => e.name)"
                )
                assert "total" in names
                server_timing_checked = True
            else:
                server_timing_checked = False

            # Sign in through the admin login form.
            page.goto(base + "/admin/login/?next=/admin/performance/")
            page.fill("#id_username", "browser")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(re.compile(r".*/admin/performance/$"))

            # The requests chart is drawn on a canvas, from data with traffic in it.
            page.wait_for_function(
                "() => { const box = document.getElementById('ps-chart-requests');"
                " return box && box.querySelector('canvas') && box.dataset.drawn; }",
                timeout=15000,
            )
            for chart in ("ps-chart-p95", "ps-chart-memory"):
                assert page.locator(f"#{chart} canvas").count() >= 1
            requests_series = page.evaluate(
                "() => JSON.parse(document.getElementById('ps-dashboard-data').textContent)"
                ".timeline.requests"
            )
            assert any(value > 0 for value in requests_series)

            cells = route_cells(page)
            assert any("products" in cell for cell in cells), cells

            # Live refresh: traffic made elsewhere appears without a reload.
            other = context.new_page()
            other.goto(base + "/products/1/")
            other.close()
            first = page.get_attribute("#ps-dashboard", "data-generated-at")
            page.wait_for_function(
                "(first) => document.getElementById('ps-dashboard')"
                ".getAttribute('data-generated-at') !== first",
                arg=first,
                timeout=15000,
            )
            page.wait_for_function(
                "(needles) => [...document.querySelectorAll('#ps-routes tbody th.ps-route')]"
                ".some(th => needles.some(needle => th.textContent.includes(needle)))",
                arg=["<int:pk>", "product-detail"],  # the route, or its view name
                timeout=15000,
            )

            # Sorting by a column header, without a reload.
            page.click("#ps-routes th[data-sort='route'] button")
            assert page.get_attribute("#ps-routes th[data-sort='route']", "aria-sort") == (
                "ascending"
            )
            cells = route_cells(page)
            assert cells == sorted(cells, key=str.lower) or cells == sorted(cells)
            page.click("#ps-routes th[data-sort='count'] button")
            assert page.get_attribute("#ps-routes th[data-sort='count']", "aria-sort") == (
                "descending"
            )

            # The window selector switches without a reload and keeps the choice in the URL.
            page.click("#ps-window-selector [data-window='1h']")
            page.wait_for_function(
                "() => document.querySelector(\"#ps-window-selector [data-window='1h']\")"
                ".getAttribute('aria-current') === 'true'"
            )
            assert page.url.endswith("?window=1h")
            page.wait_for_timeout(300)

            page.screenshot(path=SCREENSHOT, full_page=True)
            assert not errors, errors
        finally:
            browser.close()

    if not server_timing_checked:
        pytest.skip(f"{MIDDLEWARE} is not in MIDDLEWARE: the Server-Timing check did not run")
