"""Debian's chromium driven by Playwright, for the real-browser tests.

Skipped with a reason naming the package when chromium or playwright is missing,
failed instead under ``PERFSUITE_REQUIRE_SERVICES=1`` (CI). Never
``playwright install``: it downloads a browser of its own, which fails here.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.services import REQUIRE_SERVICES, missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def sync_playwright() -> Any:
    """``playwright.sync_api.sync_playwright()``, or skip/fail with the reason."""
    if not os.access(CHROMIUM, os.X_OK):
        missing("chromium", "chromium")
    try:
        from playwright.sync_api import sync_playwright as factory
    except ImportError:
        message = "the playwright package is not installed: pip install -r requirements-dev.txt"
        if REQUIRE_SERVICES:
            pytest.fail(message + " [PERFSUITE_REQUIRE_SERVICES=1]", pytrace=False)
        pytest.skip(message)
    return factory()
