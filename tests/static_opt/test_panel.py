"""Metrics of static responses and the dashboard panel that shows them."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from perfsuite.core import metrics, panels
from perfsuite.static_opt import metrics as stats
from perfsuite.static_opt.panels import StaticFilesPanel
from tests.static_opt.conftest import Collected

pytestmark = pytest.mark.urls("tests.static_opt.urls")


def test_requests_304s_and_bytes_are_recorded(static_client: Client, collected: Collected) -> None:
    url = collected.url("css/site.css")
    br = static_client.get(url, HTTP_ACCEPT_ENCODING="br")
    static_client.get(url, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=br["ETag"])
    static_client.get(url, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=br["ETag"])
    gz = static_client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    plain = static_client.get(url)
    static_client.get(url, HTTP_RANGE="bytes=0-9")
    figures = StaticFilesPanel().get_stats(metrics.registry.snapshot("all"))
    assert figures["requests"] == 6
    assert figures["not_modified"] == 2
    assert figures["not_modified_ratio"] == pytest.approx(2 / 6)
    rows = {row["encoding"]: row for row in figures["encodings"]}
    assert rows["br"]["sent"] == len(br.content)
    assert rows["gzip"]["sent"] == len(gz.content)
    assert rows["identity"]["sent"] == len(plain.content) + 10
    original = len(plain.content)
    assert rows["br"]["saved"] == original - len(br.content)
    assert figures["bytes_saved"] == 2 * original - len(br.content) - len(gz.content)
    assert figures["bytes_sent"] == len(br.content) + len(gz.content) + original + 10


def test_the_panel_is_registered_and_renders(static_client: Client, collected: Collected) -> None:
    panel = next(p for p in panels.get_panels() if p.id == "static_opt")
    assert panel.title == "Static files"
    static_client.get(collected.url("js/app.js"), HTTP_ACCEPT_ENCODING="br")
    figures = panel.get_stats(metrics.registry.snapshot("all"))
    html = render_to_string(panel.template_name, {"panel": panel, "stats": figures})
    assert 'class="ps-static-requests">1<' in html
    assert '<th scope="row">br</th>' in html
    assert "Saved by compression" in html


def test_metric_names_are_stable() -> None:
    assert (stats.REQUESTS, stats.BYTES_SENT, stats.BYTES_SAVED) == (
        "perfsuite_static_requests",
        "perfsuite_static_bytes_sent",
        "perfsuite_static_bytes_saved",
    )
