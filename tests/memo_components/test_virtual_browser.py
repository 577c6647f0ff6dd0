"""Virtual lists in a real browser (Debian's chromium through Playwright).

``/items/`` (the guide's 100,000 items) scrolled to its end and jumped to its middle
with fewer than 100 rows in the DOM at every moment; a million-row list (scaled scroll
range) reaches its last row; without JavaScript the pagination links work. Skipped
with the reason when chromium or playwright is missing (failed under
``PERFSUITE_REQUIRE_SERVICES=1``); never ``playwright install``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.template import engines

from perfsuite.memo_components.virtual_sources import generated, register_source, unregister_source
from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MILLION = 1_000_000
SCREENSHOT = "/tmp/virtual_list.png"

# Counts the row elements after every change of the list: the most ever seen.
WATCH = """() => {
  const rows = document.querySelector('.ps-vlist .ps-vrows');
  window.psMostRows = rows.children.length;
  new MutationObserver(() => {
    window.psMostRows = Math.max(window.psMostRows, rows.children.length);
  }).observe(rows, {childList: true});
}"""
SCROLL = "([y]) => { const el = document.querySelector('.ps-vlist'); el.scrollTop = y; }"
# Every row the container shows is loaded (none waits for its window).
SETTLED = """() => {
  const el = document.querySelector('.ps-vlist'), box = el.getBoundingClientRect();
  const rows = [...el.querySelectorAll('.ps-vrow')].filter(r => {
    const b = r.getBoundingClientRect(); return b.bottom > box.top && b.top < box.bottom; });
  return rows.length > 0 && rows.every(r => !r.hasAttribute('aria-busy'));
}"""
VISIBLE = """() => {
  const el = document.querySelector('.ps-vlist'), box = el.getBoundingClientRect();
  return [...el.querySelectorAll('.ps-vrow')].filter(r => {
    const b = r.getBoundingClientRect(); return b.bottom > box.top + 1 && b.top < box.bottom - 1;
  }).map(r => [+r.getAttribute('aria-rowindex'), r.textContent.trim()]);
}"""


@pytest.fixture
def million() -> Iterator[str]:
    register_source("million", generated(MILLION, lambda i: {"name": f"Row {i}"}))
    yield (
        engines["django"]
        .from_string(
            "<!DOCTYPE html><html><body>{% load perfsuite_components %}"
            '{% virtual_list "million" item_template="shop/items_row.html" %}</body></html>'
        )
        .render({})
    )
    unregister_source("million")


def settle(page: Any) -> list[list[Any]]:
    page.wait_for_function(SETTLED, timeout=15000)
    return page.evaluate(VISIBLE)


def scroll_height(page: Any) -> int:
    return page.evaluate(
        "() => { const el = document.querySelector('.ps-vlist');"
        " return el.scrollHeight - el.clientHeight; }"
    )


def test_items_scroll_to_the_end_and_jump_to_the_middle(live_server: Any, million: str) -> None:
    playwright_context = sync_playwright()
    base = live_server.url
    with playwright_context as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            response = page.goto(base + "/items/")
            assert response is not None and response.status == 200
            page.wait_for_function("() => document.querySelector('.ps-vlist').psVirtual")
            assert page.locator(".ps-vpages").is_hidden()  # JS replaces the links
            assert page.get_attribute(".ps-vlist", "aria-rowcount") == "100000"
            page.evaluate(WATCH)
            assert settle(page)[0] == [1, "Item 0"]

            # scroll to the end in steps, as a reader would (and every row in view loads)
            end = scroll_height(page)
            view = page.evaluate("() => document.querySelector('.ps-vlist').clientHeight")
            assert end == 100_000 * 40 - view  # the demo's border takes 2 px of the 600
            for step in range(1, 31):
                page.evaluate(SCROLL, [end * step // 30])
                shown = settle(page)
                rows = page.locator(".ps-vlist .ps-vrow").count()
                assert rows < 100, (step, rows)
                assert all(text == f"Item {index - 1}" for index, text in shown), shown
            page.get_by_text("Item 99999", exact=True).wait_for()
            assert settle(page)[-1] == [100_000, "Item 99999"]

            # jump to the middle: the rows at that offset, nothing before them loaded
            page.evaluate(SCROLL, [2_000_000])
            shown = settle(page)
            assert shown[0] == [50_001, "Item 50000"], shown[:2]
            assert [i for i, _ in shown] == list(range(50_001, 50_001 + len(shown)))
            assert page.evaluate("() => window.psMostRows") < 100
            page.screenshot(path=SCREENSHOT)

            # a million rows: the scroll range is scaled under the browser's height limit
            page.route(base + "/million/", lambda route: route.fulfill(body=million))
            page.goto(base + "/million/")
            page.wait_for_function("() => document.querySelector('.ps-vlist').psVirtual")
            page.evaluate(WATCH)
            end = scroll_height(page)
            assert end < 16_000_000
            page.evaluate(SCROLL, [end // 2])
            shown = settle(page)
            middle = [text for _, text in shown]
            assert any(abs(int(t.split()[1]) - MILLION // 2) < 20 for t in middle), middle
            page.evaluate(SCROLL, [end])
            page.get_by_text(f"Row {MILLION - 1}", exact=True).wait_for()
            assert settle(page)[-1] == [MILLION, f"Row {MILLION - 1}"]
            assert page.evaluate("() => window.psMostRows") < 100
            assert errors == []
        finally:
            browser.close()


def test_without_javascript_the_list_pages(live_server: Any) -> None:
    playwright_context = sync_playwright()
    with playwright_context as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(live_server.url + "/items/")
            assert page.locator(".ps-vpages").is_visible()
            assert page.locator(".ps-vspacer-bottom").is_hidden()  # no empty scroll range
            page.get_by_role("link", name="Next").click()
            page.wait_for_url("**/items/?page=2")
            assert page.get_by_text("Item 25", exact=True).is_visible()
            page.get_by_role("link", name="Last").click()
            page.wait_for_url("**/items/?page=4000")
            assert page.get_by_text("Item 99999", exact=True).count() == 1
            assert page.get_by_text("Page 4000 of 4000").is_visible()
        finally:
            browser.close()
