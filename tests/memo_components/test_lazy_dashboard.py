"""The demo's tabbed Dashboard (/dashboard/): lazy Charts and Data placeholders, both
components loaded through the endpoint with hostile data escaped, forced failures;
and lazy components' checks W220/W221."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.checks import run_checks
from django.test import Client, override_settings

from project.shop import dashboard
from project.shop.models import Product
from tests.memo_components.lazy_support import HOSTILE, placeholder_url, placeholder_urls, render

pytestmark = pytest.mark.django_db

ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def page_urls(client: Client) -> dict[str, str]:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return {url.split("/")[3]: url for url in placeholder_urls(response.content.decode())}


def test_dashboard_has_tabs_and_lazy_placeholders(client: Client) -> None:
    Product.objects.create(name=HOSTILE, price=Decimal("9.99"), description="")
    response = client.get("/dashboard/")
    body = response.content.decode()
    for tab in ("Overview", "Charts", "Data"):
        assert f">{tab}</button>" in body
    assert '<section role="tabpanel" id="panel-charts" aria-labelledby="tab-charts" hidden>' in body
    assert "Loading chart…" in body and "Loading table…" in body
    assert 'style="min-height:260px"' in body  # the chart's height prop: no layout shift
    assert body.count("lazy.js") == 1
    assert "<script>alert" not in body and HOSTILE not in body  # names travel signed only
    assert '<a href="/dashboard/">Dashboard</a>' in body


@pytest.mark.django_db(databases="__all__")
def test_chart_and_table_load_with_hostile_data_escaped(db_alias: str, client: Client) -> None:
    Product.objects.create(name=HOSTILE, price=Decimal("9.99"), description="")
    Product.objects.create(name="Plain", price=Decimal("120.00"), description="")
    urls = page_urls(client)
    assert set(urls) == {"chart", "data_table"}

    chart = client.get(urls["chart"])
    assert chart.status_code == 200
    assert 'style="height:260px;' in chart.content.decode()
    assert chart.content.decode().count("<rect ") == 6

    table = client.get(urls["data_table"]).content.decode()
    assert f"<td>{ESCAPED}&amp;&quot;&#x27;&lt;img src=x onerror=alert(1)&gt;</td>" in table
    assert "<td>120.00</td>" in table and "<script>" not in table and "<img" not in table


def test_chart_component_escapes_hostile_title_and_labels(client: Client) -> None:
    url = placeholder_url(
        render(
            '{% lazy "chart" title=evil data=data labels=labels %}',
            evil=HOSTILE,
            data=[1, 2.5],
            labels=[HOSTILE, "b"],
        )
    )
    body = client.get(url).content.decode()
    assert "<script>" not in body and "<img" not in body
    assert body.count(ESCAPED) == 4  # the caption, the aria-label, a bar's title, a label


def test_async_chart_loader_under_asgi(async_client: Any) -> None:
    urls = page_urls(Client())
    response = async_to_sync(async_client.get)(urls["chart"])
    assert response.status_code == 200
    assert b'class="chart"' in response.content


def test_forced_failure_then_retry(client: Client) -> None:
    urls = page_urls(client)
    dashboard.fail_next_load("data_table", message=HOSTILE)
    failed = client.get(urls["data_table"])
    assert failed.status_code == 503 and failed.content.decode() == HOSTILE
    assert client.get(urls["data_table"]).status_code == 200  # the retry


def test_fail_parameter_only_while_debug(client: Client) -> None:
    urls = page_urls(client)
    client.get("/dashboard/", {"fail": "chart"})  # DEBUG is off: ignored
    assert client.get(urls["chart"]).status_code == 200
    with override_settings(DEBUG=True):
        client.get("/dashboard/", {"fail": "chart"})
    assert client.get(urls["chart"]).status_code == 503
    assert client.get(urls["chart"]).status_code == 200


def ids() -> set[str]:
    return {m.id for m in run_checks() if m.id}


def test_w220_token_length_beyond_what_servers_accept() -> None:
    assert "perfsuite.W220" not in ids()
    with override_settings(PERFSUITE={**settings.PERFSUITE, "LAZY_MAX_TOKEN_LENGTH": 8000}):
        assert "perfsuite.W220" in ids()


def test_w221_lazy_components_without_the_apps_urls() -> None:
    assert "perfsuite.W221" not in ids()
    with override_settings(ROOT_URLCONF="tests.urls_minimal"):
        assert "perfsuite.W221" in ids()  # the dashboard's chart and data_table are registered
