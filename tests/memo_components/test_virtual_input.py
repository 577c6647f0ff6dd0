"""Virtual lists scrolled as people scroll them, in Debian's chromium through Playwright
with real input events: mouse-wheel notches and trackpad-sized deltas over the list,
PageDown / arrow keys / End / Home with the list focused, the scrollbar dragged with
the mouse, a jump to the middle and to the end.

After every step the list must come to rest where the input put it (the browser's
scroll anchoring once moved ``scrollTop`` whenever the top spacer grew, which asked for
a new window, which grew the spacer again: three wheel notches ran away to 16,320 px
and kept climbing), the rows under the viewport must be the ones its ``scrollTop``
asks for, and fewer than 100 rows are ever in the DOM. ``/items/`` (rows of 40 px, the
guide's 100,000 items) and ``/products/virtual/``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.memo_components.test_virtual_browser import WATCH

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LIST = ".ps-vlist"
# scrollTop, the row height, the list's height, and the loaded rows in view
STATE = """() => {
  const el = document.querySelector('.ps-vlist'), box = el.getBoundingClientRect();
  const inner = box.top + el.clientTop;
  const rows = [...el.querySelectorAll('.ps-vrow')].filter(r => {
    const b = r.getBoundingClientRect();
    return b.bottom > inner + 1 && b.top < inner + el.clientHeight - 1;
  });
  return {
    top: el.scrollTop, height: +el.dataset.itemHeight, view: el.clientHeight,
    busy: rows.some(r => r.hasAttribute('aria-busy')),
    first: rows.length ? +rows[0].getAttribute('aria-rowindex') : 0,
    firstTop: rows.length ? rows[0].getBoundingClientRect().top - inner : 0,
    shown: rows.map(r => +r.getAttribute('aria-rowindex')),
    dom: el.querySelectorAll('.ps-vrow').length,
    count: +el.getAttribute('aria-rowcount'),
    end: el.scrollHeight - el.clientHeight,
  };
}"""


def rest(page: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The list's state once scrollTop has not moved for 0.6 s and every row in view
    is loaded: a list that keeps moving by itself fails here."""
    deadline = time.monotonic() + timeout
    previous = None
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate(STATE)
        if previous is None or state["top"] != previous["top"]:
            still_since = time.monotonic()
        elif not state["busy"] and state["shown"] and time.monotonic() - still_since >= 0.6:
            return state
        previous = state
        time.sleep(0.1)
    raise AssertionError(f"the list never came to rest: {previous}")


def check(state: dict[str, Any], step: str) -> None:
    """The rows in view are the ones scrollTop asks for (unscaled lists: row i starts
    at (i - 1) * height), in order, with no gap; fewer than 100 in the DOM."""
    top, height = state["top"], state["height"]
    expected_first = int(top // height) + 1
    assert state["first"] == expected_first, (step, state["first"], expected_first, top)
    assert abs(state["firstTop"] - ((expected_first - 1) * height - top)) <= 1, (step, state)
    shown = state["shown"]
    assert shown == list(range(shown[0], shown[0] + len(shown))), (step, shown)
    assert len(shown) >= min(state["view"] // height, state["count"] - shown[0] + 1), step
    assert state["dom"] < 100, (step, state["dom"])


def drag_scrollbar(page: Any, fraction: float) -> None:
    """Press the scrollbar's thumb (at the top of the track, below the arrow button)
    at the list's right edge and drag it down by ``fraction`` of the track."""
    box = page.locator(LIST).bounding_box()
    x = box["x"] + box["width"] - 8
    start = box["y"] + 22  # the 1 px border, the 15 px arrow button, into the thumb
    track = box["height"] - 2 * 16
    page.mouse.move(x, start)
    page.mouse.down()
    for n in range(1, 11):
        page.mouse.move(x, start + track * fraction * n / 10)
        time.sleep(0.03)
    page.mouse.up()


@pytest.mark.parametrize("path", ["/items/", "/products/virtual/"])
def test_wheel_keys_scrollbar_and_jumps(live_server: Any, path: str) -> None:
    from django.core.management import call_command

    if path.startswith("/products/"):
        call_command("seed_demo", products=3000, users=0, posts=0, verbosity=0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(  # scrollbars shown: one is dragged
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_default_args=["--hide-scrollbars"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            assert page.goto(live_server.url + path).status == 200
            page.wait_for_function("() => document.querySelector('.ps-vlist').psVirtual")
            page.evaluate(WATCH)
            state = rest(page)
            check(state, "loaded")
            assert state["top"] == 0

            # three wheel notches a second apart over the list: 360 px, and it stays
            box = page.locator(LIST).bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            for notch in range(3):
                page.mouse.wheel(0, 120)
                time.sleep(1.0)
                state = rest(page)
                check(state, f"wheel notch {notch + 1}")
            assert state["top"] == 360, state["top"]
            time.sleep(2.0)
            assert rest(page)["top"] == 360, "the list moved by itself"

            # trackpad-sized deltas, many small events, and one back up
            for _ in range(25):
                page.mouse.wheel(0, 7)
            state = rest(page)
            check(state, "trackpad")
            assert state["top"] == 360 + 25 * 7, state["top"]
            page.mouse.wheel(0, -100)
            state = rest(page)
            check(state, "wheel up")
            assert state["top"] == 360 + 25 * 7 - 100

            # keys with the list focused
            page.locator(LIST).focus()
            for key in ("PageDown", "PageDown", "ArrowDown", "ArrowDown", "PageUp"):
                before = rest(page)["top"]
                page.keyboard.press(key)
                state = rest(page)
                check(state, key)
                moved = state["top"] - before
                assert moved > 0 if key != "PageUp" else moved < 0, (key, moved)
                assert abs(moved) < state["view"] + 1, (key, moved)
            page.keyboard.press("End")
            state = rest(page)
            check(state, "End")
            assert state["top"] == state["end"] and state["shown"][-1] == state["count"]
            page.keyboard.press("Home")
            state = rest(page)
            check(state, "Home")
            assert state["top"] == 0 and state["shown"][0] == 1

            # the scrollbar dragged to about the middle with the mouse
            drag_scrollbar(page, 0.5)
            state = rest(page)
            check(state, "scrollbar drag")
            assert 0.3 * state["end"] < state["top"] < 0.7 * state["end"], state["top"]

            # jumps: the middle, the end
            for target in ("middle", "end"):
                page.evaluate(
                    "([t]) => { const el = document.querySelector('.ps-vlist');"
                    " const end = el.scrollHeight - el.clientHeight;"
                    " el.scrollTop = t === 'end' ? end : Math.floor(end / 2); }",
                    [target],
                )
                state = rest(page)
                check(state, f"jump to the {target}")
            assert state["shown"][-1] == state["count"]
            # one more notch at the end changes nothing, a notch up moves 120 px
            page.mouse.wheel(0, -120)
            state = rest(page)
            check(state, "wheel up at the end")
            assert abs(state["top"] - (state["end"] - 120)) <= 1, (state["top"], state["end"])
            assert page.evaluate("() => window.psMostRows") < 100
            assert errors == []
        finally:
            browser.close()
