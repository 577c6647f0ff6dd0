"""System checks perfsuite.E601 and W601-W604 (docs/checks.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks

from perfsuite.static_opt.engine import compress as codecs
from tests.static_opt.conftest import Collected

OURS = "perfsuite.static_opt.middleware.StaticFilesMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
PERF = "perfsuite.perf_monitor.middleware.PerformanceMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"


def ids() -> list[str]:
    return [m.id for m in run_checks() if m.id and m.id.startswith("perfsuite.")]


@pytest.fixture
def good(settings: Any, collected: Collected) -> Any:
    settings.DEBUG = False
    settings.STATIC_ROOT = str(collected.root)
    settings.MIDDLEWARE = [SECURITY, PERF, OURS, SESSION]
    return settings


def test_a_good_setup_is_clean(good: Any) -> None:
    assert [i for i in ids() if re.fullmatch(r"perfsuite\.[EW]6\d\d", i)] == []


def test_w601_middleware_missing(good: Any) -> None:
    good.MIDDLEWARE = [SECURITY, SESSION]
    assert "perfsuite.W601" in ids()


def test_w602_something_heavy_above(good: Any) -> None:
    good.MIDDLEWARE = [SECURITY, SESSION, OURS]
    assert "perfsuite.W602" in ids()
    good.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", OURS]
    assert "perfsuite.W602" in ids()


def test_e601_no_static_root_with_debug_off(good: Any) -> None:
    good.STATIC_ROOT = None
    assert "perfsuite.E601" in ids()
    good.DEBUG = True
    assert "perfsuite.E601" not in ids()


def test_w603_nothing_collected(good: Any, tmp_path: Path) -> None:
    good.STATIC_ROOT = str(tmp_path / "missing")
    assert "perfsuite.W603" in ids()
    (tmp_path / "missing").mkdir()
    assert "perfsuite.W603" in ids()


def test_w604_compression_library_missing(good: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(codecs, "brotli", None)
    assert "perfsuite.W604" in ids()
    assert "br" not in codecs.available()
    good.PERFSUITE = {"STORE": "local", "STATIC_ENCODINGS": ["gzip", "zstd"]}
    assert "perfsuite.W604" not in ids()


def test_bad_values_are_core_setting_errors(good: Any) -> None:
    good.PERFSUITE = {"STORE": "local", "STATIC_ENCODINGS": ["lzma"], "STATIC_MAX_AGE": -1}
    errors = [m for m in run_checks() if m.id == "perfsuite.E002"]
    assert {m.msg.split("'")[1] for m in errors} == {"STATIC_ENCODINGS", "STATIC_MAX_AGE"}


def test_no_checks_when_the_app_is_not_installed(good: Any) -> None:
    good.INSTALLED_APPS = [a for a in good.INSTALLED_APPS if a != "perfsuite.static_opt"]
    good.STATIC_ROOT = None
    good.MIDDLEWARE = []
    assert [i for i in ids() if re.fullmatch(r"perfsuite\.[EW]6\d\d", i)] == []
