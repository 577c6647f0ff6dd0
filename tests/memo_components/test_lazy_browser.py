"""The demo's /dashboard/ in a real browser (Debian's chromium through Playwright).

The Charts tab shows its fallback, in a box of the chart's height, then the chart in
that same box (no layout shift); Charts and Data each load once however often their
tabs are shown; a forced loader failure shows the escaped error state and recovers
on retry. Skipped with the reason when /usr/bin/chromium or playwright is missing
(failed under ``PERFSUITE_REQUIRE_SERVICES=1``); never ``playwright install``.
A screenshot is left at ``/tmp/lazy_dashboard.png``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from perfsuite.core import metrics
from project.shop import dashboard
from project.shop.models import Product
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.memo_components.lazy_support import HOSTILE

SCREENSHOT = "/tmp/lazy_dashboard.png"
CHART = "#panel-charts .ps-lazy"
TABLE = "#panel-data .ps-lazy"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def box_height(page: Any, selector: str) -> float:
    return float(
        page.evaluate(f"() => document.querySelector('{selector}').getBoundingClientRect().height")
    )


def chart_errors() -> float:
    snap = metrics.registry.snapshot("all")
    return snap.counter_total("perfsuite_component_lazy_loads", component="chart", result="error")


def test_dashboard_tabs_load_lazily_once_and_recover_from_a_failure(live_server: Any) -> None:
    playwright_context = sync_playwright()  # skips before touching the database
    # ORM work before Playwright starts (its sync API runs an event loop in this thread)
    for i, price in enumerate(("4.50", "19.99", "45.00", "120.00")):
        Product.objects.create(name=f"Product {i}", price=Decimal(price), description="")
    Product.objects.create(name=HOSTILE, price=Decimal("7.00"), description="")
    dashboard.LazyChart.forget()
    errors_before = chart_errors()
    base = live_server.url

    with playwright_context as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"error: {exc}"))
            page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
            loads: list[str] = []
            page.on(
                "request",
                lambda r: (
                    loads.append(r.url.split("/components/lazy/")[1].split("/")[0])
                    if "/components/lazy/" in r.url
                    else None
                ),
            )
            held: list[Any] = []
            page.route("**/components/lazy/chart/**", lambda route: held.append(route))

            page.goto(base + "/dashboard/")
            page.wait_for_function("() => window.perfsuiteLazy")
            assert page.is_visible("text=Dashboard overview")
            assert loads == []  # hidden tabs load nothing
            assert page.get_attribute(CHART, "data-ps-state") == "waiting"

            # Charts: the fallback, in the chart's box, while the load is held back
            page.click("#tab-charts")
            page.wait_for_selector(f"{CHART}[data-ps-state=loading]")
            assert page.is_visible(f"{CHART} >> text=Loading chart…")
            fallback_height = box_height(page, CHART)
            assert fallback_height == pytest.approx(dashboard.CHART_HEIGHT, abs=1)
            assert len(held) == 1
            held[0].continue_()
            page.wait_for_selector(f"{CHART}[data-ps-state=loaded] figure.chart svg rect")
            assert not page.is_visible(f"{CHART} >> text=Loading chart…")
            assert page.locator(f"{CHART} rect").count() == 6
            assert box_height(page, CHART) == pytest.approx(fallback_height, abs=1)
            page.unroute("**/components/lazy/chart/**")

            # Data, then both tabs again: each loaded once
            page.click("#tab-data")
            page.wait_for_selector(f"{TABLE}[data-ps-state=loaded] table.data-table")
            cells = page.locator(f"{TABLE} td").all_text_contents()
            assert HOSTILE in cells  # shown as text, not run
            assert page.locator(f"{TABLE} img").count() == 0
            for tab in ("#tab-charts", "#tab-data", "#tab-overview", "#tab-charts"):
                page.click(tab)
            page.wait_for_timeout(300)  # time for a wrong second load to start (asserted below)
            assert sorted(loads) == ["chart", "data_table"], loads

            # A failing loader: the escaped error state, then the retry recovers
            dashboard.fail_next_load("chart", message=HOSTILE)
            assert page.url == base + "/dashboard/#charts"  # the tab is kept in the URL
            page.reload()  # opens on the Charts tab
            page.wait_for_selector(f"{CHART}[data-ps-state=error] .ps-lazy-retry")
            assert page.text_content(f"{CHART} .ps-lazy-message") == HOSTILE
            assert page.locator(f"{CHART} img, {CHART} script").count() == 0
            assert page.get_attribute(f"{CHART} .ps-lazy-error", "role") == "alert"
            assert box_height(page, CHART) == pytest.approx(dashboard.CHART_HEIGHT, abs=1)
            page.click(f"{CHART} .ps-lazy-retry")
            page.wait_for_selector(f"{CHART}[data-ps-state=loaded] figure.chart")
            assert page.locator(f"{CHART} .ps-lazy-error").count() == 0
            assert sorted(loads) == ["chart", "chart", "chart", "data_table"], loads

            page.screenshot(path=SCREENSHOT, full_page=True)
            assert not problems, problems
        finally:
            browser.close()
    assert chart_errors() == errors_before + 1
