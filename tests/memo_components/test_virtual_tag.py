"""``{% virtual_list %}``: the first window, spacers, ARIA, pages without JavaScript,
escaping, and its mistakes (through the template engine and the demo's pages)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.template import TemplateSyntaxError, engines
from django.test import Client, RequestFactory

from perfsuite.memo_components.virtual_render import MAX_HEIGHT, Geometry
from perfsuite.memo_components.virtual_sources import (
    generated,
    register_source,
    unregister_source,
)

HOSTILE = '<script>alert("x")</script>&'


@pytest.fixture(autouse=True)
def sources() -> Iterator[None]:
    register_source("t-items", generated(1000, lambda i: {"name": f"Item {i}"}))
    register_source("t-hostile", [{"name": HOSTILE}] * 3)
    register_source("t-million", generated(1_000_000, lambda i: {"name": f"Row {i}"}))
    register_source("t-staff", [{"name": "secret"}], permission="shop.view_product")
    yield
    for name in ("t-items", "t-hostile", "t-million", "t-staff"):
        unregister_source(name)


def render(text: str, path: str = "/", user: Any = None) -> str:
    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    template = engines["django"].from_string("{% load perfsuite_components %}" + text)
    return template.render({}, request)


def rows(html: str) -> list[tuple[int, str]]:
    found = re.findall(r'aria-rowindex="(\d+)"[^>]*><div role="cell">(.*?)\s*</div>', html)
    return [(int(i), text) for i, text in found]


def style_height(html: str, cls: str) -> int:
    match = re.search(rf'class="[^"]*{cls}[^"]*" style="height:(-?\d+)px', html)
    assert match, cls
    return int(match[1])


def test_the_first_window_between_spacers_sized_from_the_count() -> None:
    html = render('{% virtual_list "t-items" item_template="shop/items_row.html" %}')
    shown = rows(html)
    # ceil(600 / 40) rows in view and 5 of overscan either side: 25 rows, from the first
    assert shown == [(i + 1, f'<span class="item-name">Item {i}</span>') for i in range(25)]
    assert 'aria-rowcount="1000"' in html and 'role="table"' in html
    assert style_height(html, "ps-vsizer") == 1000 * 40
    assert style_height(html, "ps-vspacer-top") == 0
    assert style_height(html, "ps-vspacer-bottom") == (1000 - 25) * 40
    assert 'style="height:600px;overflow-y:auto' in html
    assert 'data-url="/components/virtual/t-items/"' in html
    assert "/static/perfsuite/memo_components/virtual_list.js" in html
    # the links a browser without JavaScript follows
    assert '<a href="?page=2" rel="next">Next</a>' in html
    assert '<a href="?page=40" rel="nofollow">Last</a>' in html
    assert "Page 1 of 40" in html


def test_options_size_the_window() -> None:
    html = render(
        '{% virtual_list "t-items" item_template="shop/items_row.html" item_height=50 '
        "height=200 overscan=0 %}"
    )
    assert [i for i, _ in rows(html)] == [1, 2, 3, 4]
    assert style_height(html, "ps-vsizer") == 50_000


@pytest.mark.parametrize(
    ("query", "first", "page"),
    [("page=3", 50, 3), ("page=0", 0, 1), ("page=abc", 0, 1), ("page=99999999999", 975, 40)],
)
def test_a_page_is_kept_within_the_list(query: str, first: int, page: int) -> None:
    html = render('{% virtual_list "t-items" item_template="shop/items_row.html" %}', "/?" + query)
    assert rows(html)[0][0] == first + 1
    assert f"Page {page} of 40" in html
    if page > 1:  # the script starts at the page's rows: its offset is where it scrolls to
        assert f'data-scroll="{first * 40}"' in html
        assert style_height(html, "ps-vspacer-top") == first * 40


def test_other_query_parameters_stay_in_the_links() -> None:
    html = render(
        '{% virtual_list "t-items" item_template="shop/items_row.html" page_param="p" %}',
        "/?q=a%26b&p=2",
    )
    assert 'href="?q=a%26b&amp;p=3"' in html


def test_item_names_are_escaped() -> None:
    html = render('{% virtual_list "t-hostile" item_template="shop/items_row.html" %}')
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html


def test_a_million_rows_scale_the_scroll_range_and_the_last_page_is_reached() -> None:
    html = render(
        '{% virtual_list "t-million" item_template="shop/items_row.html" %}', "/?page=999999"
    )
    assert style_height(html, "ps-vsizer") == MAX_HEIGHT < 16_000_000
    assert rows(html)[-1] == (1_000_000, '<span class="item-name">Row 999999</span>')
    geometry = Geometry(1_000_000, 40, 600, 5)
    last = geometry.placed(1_000_000 - 15, 15)
    assert last["scroll"] == MAX_HEIGHT - 600  # the end of the scaled range
    assert last["top"] + 15 * 40 + last["shift"] <= MAX_HEIGHT
    middle = geometry.placed(500_000, 25)
    # scrolled there, the script's mapping (scroll * scale) lands on that row
    assert abs(middle["scroll"] * geometry.scale() - 500_000 * 40) < geometry.scale()
    assert abs(middle["scroll"] - (MAX_HEIGHT - 600) / 2) < 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{% virtual_list "nope" item_template="x.html" %}', "no virtual list source"),
        ('{% virtual_list "t-items" %}', "needs item_template"),
        ("{% virtual_list %}", "needs a source"),
        ('{% virtual_list "t-items" item_template="x.html" colour=1 %}', "no option 'colour'"),
        ('{% virtual_list "t-items" item_template="x.html" item_height=0 %}', "item_height"),
        ('{% virtual_list "t-items" item_template="x.html" overscan="many" %}', "overscan"),
        ('{% virtual_list "t-items" item_template="x.html" height=True %}', "height"),
    ],
)
def test_mistakes_are_template_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=message):
        render(text)


@pytest.mark.django_db
def test_a_filtered_queryset_must_be_registered() -> None:
    from project.shop.models import Product

    template = engines["django"].from_string(
        '{% load perfsuite_components %}{% virtual_list qs item_template="shop/items_row.html" %}'
    )
    with pytest.raises(TemplateSyntaxError, match="register"):
        template.render({"qs": Product.objects.filter(name="a")})


def test_a_source_with_a_permission_refuses_the_page() -> None:
    with pytest.raises(PermissionDenied):
        render('{% virtual_list "t-staff" item_template="shop/items_row.html" %}')


def test_the_demo_items_page() -> None:
    response = Client().get("/items/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-rowcount="100000"' in html
    assert rows(html)[0] == (1, '<span class="item-name">Item 0</span>')
    assert Client().get("/items/?page=4000").content.decode().count("Item 99999") == 1
