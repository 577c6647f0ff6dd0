"""The perfstats and perfreset management commands."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.perf_monitor.conftest import snapshot

LATENCY_NAME = "perfsuite_http_request_seconds"
pytestmark = [pytest.mark.urls("tests.perf_monitor.urls"), pytest.mark.django_db]


def test_perfstats_table_and_json(client: Client) -> None:
    client.get("/items/1/")
    client.get("/items/2/")
    out = io.StringIO()
    call_command("perfstats", "--window", "5m", stdout=out, no_color=True)
    text = out.getvalue()
    assert "2 requests" in text
    assert "items/<int:pk>/" in text
    out = io.StringIO()
    call_command("perfstats", "--json", "--window", "all", stdout=out)
    data = json.loads(out.getvalue())
    assert data["routes"]["items/<int:pk>/"]["count"] == 2
    for key in (
        "requests_processed",
        "avg_response_time",
        "memory_usage",
        "cpu_usage",
        "uptime_seconds",
        "counters",
        "metrics",
        "routes",
    ):
        assert key in data


def test_perfstats_watch_repeats_and_rejects_bad_input() -> None:
    out = io.StringIO()
    call_command("perfstats", "--watch", "0.01", "--count", "2", stdout=out, no_color=True)
    assert out.getvalue().count("window 5m") == 2
    with pytest.raises(CommandError, match="--window"):
        call_command("perfstats", "--window", "7d")
    with pytest.raises(CommandError, match="--watch"):
        call_command("perfstats", "--watch", "-1")


def test_perfreset_clears(client: Client) -> None:
    client.get("/ok/")
    assert snapshot().histogram("perfsuite_http_request_seconds").count == 1
    out = io.StringIO()
    call_command("perfreset", stdout=out)
    assert "cleared" in out.getvalue()
    assert snapshot().histogram("perfsuite_http_request_seconds").count == 0
