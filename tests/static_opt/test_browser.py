"""A real browser (Debian's chromium through Playwright) loads the demo's CSS and JS.

The stylesheet and script come through StaticFilesMiddleware under gunicorn,
compressed; a reload either revalidates them with a 304 or takes them from the
browser cache without asking (immutable). gunicorn's access log is the witness of
what reached the server. Skipped with the reason when chromium or playwright is
missing (failed under ``PERFSUITE_REQUIRE_SERVICES=1``); never ``playwright install``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.static_opt.servers import Demo, prepare_demo, running, source

pytestmark = pytest.mark.slow

SCREENSHOT = "/tmp/static_opt_demo.png"
LOG_LINE = re.compile(r'"GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) (?P<size>\d+|-)')


def hits(log: Path, path: str) -> list[tuple[int, int]]:
    """(status, body bytes) of every request for ``path`` in gunicorn's access log."""
    found = []
    for line in log.read_text().splitlines():
        m = LOG_LINE.search(line)
        if m and m.group("path") == path:
            size = m.group("size")
            found.append((int(m.group("status")), 0 if size == "-" else int(size)))
    return found


def test_demo_page_assets_in_a_browser(tmp_path: Path) -> None:
    playwright_context = sync_playwright()
    demo: Demo = prepare_demo(tmp_path, migrate=True)
    css = "/static/" + demo.paths["shop/site.css"]
    js = "/static/" + demo.paths["shop/site.js"]
    log = tmp_path / "access.log"
    with running("gunicorn", demo.env, "--access-logfile", str(log)) as port:
        base = f"http://127.0.0.1:{port}"
        with playwright_context as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                responses: dict[str, Any] = {}
                page.on(
                    "response",
                    lambda r: responses.setdefault(r.url.replace(base, ""), r),
                )
                response = page.goto(base + "/")
                assert response is not None and response.status == 200
                page.wait_for_load_state("load")

                # The stylesheet applies and the script ran.
                radius = page.evaluate(
                    "() => getComputedStyle(document.documentElement)"
                    ".getPropertyValue('--radius').trim()"
                )
                assert radius == "6px"
                page.wait_for_function("() => document.documentElement.dataset.enhanced")
                for url in (css, js):
                    got = responses[url]
                    assert got.status == 200, url
                    headers = got.headers
                    assert headers["content-encoding"] in ("br", "gzip", "zstd"), headers
                    assert headers["cache-control"] == "public, max-age=31536000, immutable"
                # What crossed the wire was the compressed variant.
                for url, name in ((css, "shop/site.css"), (js, "shop/site.js")):
                    [(status, size)] = hits(log, url)
                    assert status == 200
                    assert 0 < size < len(source(name)) * 0.6, (url, size)
                first_hits = {url: len(hits(log, url)) for url in (css, js)}

                page.reload()
                page.wait_for_load_state("load")
                page.wait_for_function("() => document.documentElement.dataset.enhanced")
                assert (
                    page.evaluate(
                        "() => getComputedStyle(document.documentElement)"
                        ".getPropertyValue('--radius').trim()"
                    )
                    == "6px"
                )
                for url in (css, js):
                    again = hits(log, url)[first_hits[url] :]
                    # From the cache (no request at all) or revalidated with a 304.
                    assert all(status == 304 for status, _size in again), (url, again)
                page.screenshot(path=SCREENSHOT, full_page=True)
                assert not errors, errors
            finally:
                browser.close()
