"""``{% lazy %}``: the placeholder (URL, when, size, fallback), escaping of everything it
carries, the script once per page, and the mistakes it refuses at render time."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core import signing
from django.template import TemplateSyntaxError
from django.test import override_settings

from perfsuite.memo_components.lazy import get_lazy, register_lazy, unregister_lazy
from perfsuite.memo_components.lazy_tokens import SALT, PropsSerializer
from tests.memo_components import lazy_support as support
from tests.memo_components.lazy_support import HOSTILE, placeholder_url, render


@pytest.fixture(autouse=True)
def lazies() -> Iterator[None]:
    support.register_all()
    yield
    for name in support.NAMES:
        unregister_lazy(name)


def payload(url: str, name: str) -> dict[str, object]:
    token = url.split("?t=", 1)[1]
    return signing.loads(token, salt=SALT + name, serializer=PropsSerializer)


def test_placeholder_defaults_from_the_registration() -> None:
    page = render('{% lazy "t_lazy_greeting" who="Ada" %}')
    url = placeholder_url(page)
    assert url.startswith("/components/lazy/t_lazy_greeting/?t=")
    assert payload(url, "t_lazy_greeting") == {
        "c": "t_lazy_greeting",
        "p": {"who": "Ada"},
        "u": None,
    }
    assert 'data-ps-when="visible"' in page
    assert 'style="min-height:120px"' in page  # the registration's height
    assert '<div class="ps-lazy-fallback" role="status">Loading greeting…</div>' in page
    assert 'aria-busy="true"' in page


def test_size_from_props_and_options_of_the_tag() -> None:
    page = render(
        '{% lazy "t_lazy_greeting" who="Ada" height=300 width="20rem" when="load" '
        'fallback="Wait…" %}'
    )
    assert 'style="min-height:300px;min-width:20rem"' in page
    assert 'data-ps-when="load"' in page
    assert "Wait…" in page and "Loading greeting" not in page
    # the size props travel to the component too; the tag's options do not
    props = payload(placeholder_url(page), "t_lazy_greeting")["p"]
    assert props == {"who": "Ada", "height": 300, "width": "20rem"}


def test_script_once_per_page() -> None:
    page = render(
        '{% lazy "t_lazy_greeting" who="a" %}{% lazy "t_lazy_greeting" who="b" %}'
        '{% lazy "t_lazy_async" who="c" %}'
    )
    assert page.count("<script") == 1
    assert re.search(r'<script src="/static/perfsuite/memo_components/lazy\.js" defer>', page)
    assert page.count('class="ps-lazy"') == 3


def test_hostile_props_and_fallback_are_escaped() -> None:
    page = render('{% lazy "t_lazy_greeting" who=evil fallback=evil %}', evil=HOSTILE)
    assert "<script>" not in page.replace('<script src="/static/', "")
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # the fallback, as text
    # the props are inside the signed token, never in the page as markup
    assert payload(placeholder_url(page), "t_lazy_greeting")["p"] == {"who": HOSTILE}


def test_hostile_size_is_refused_not_written_into_the_style() -> None:
    with pytest.raises(TypeError, match="CSS length"):
        render('{% lazy "t_lazy_greeting" who="a" height=h %}', h="1px;background:url(//x)")
    with pytest.raises(TypeError, match="CSS length"):
        render('{% lazy "t_lazy_greeting" who="a" width=w %}', w='1px" onmouseover="x')


def test_signed_in_user_is_bound_into_the_token(django_user_model) -> None:  # type: ignore[no-untyped-def]
    user = django_user_model(pk=42, username="ada")
    page = render('{% lazy "t_lazy_greeting" who="a" %}', user=user)
    assert payload(placeholder_url(page), "t_lazy_greeting")["u"] == "42"


def test_unregistered_name_and_a_plain_component_are_refused() -> None:
    with pytest.raises(TemplateSyntaxError, match="no lazy component is registered as 'nope'"):
        render('{% lazy "nope" %}')
    # registered as a component (project/shop or the memo tests) is not enough
    with pytest.raises(TemplateSyntaxError, match="no lazy component"):
        render('{% lazy "product_card" %}')


def test_bad_when_and_bad_syntax() -> None:
    with pytest.raises(TemplateSyntaxError, match="when must be"):
        render('{% lazy "t_lazy_greeting" who="a" when="never" %}')
    with pytest.raises(TemplateSyntaxError, match="needs a component name"):
        render("{% lazy %}")
    with pytest.raises(TemplateSyntaxError, match="name=value"):
        render('{% lazy "t_lazy_greeting" who %}')


def test_props_that_are_not_json_are_refused_with_the_prop_named() -> None:
    from decimal import Decimal

    with pytest.raises(TypeError, match=r"prop 'who' cannot travel signed.*Decimal"):
        render('{% lazy "t_lazy_greeting" who=price %}', price=Decimal("1.50"))


def test_props_too_large_for_a_url_are_refused() -> None:
    big = [f"row {i} {'x' * 20}" for i in range(2000)]
    big_and_random = [str(hash((i, "salt")) * 7) for i in range(400)]
    with pytest.raises(ValueError, match="LAZY_MAX_TOKEN_LENGTH"):
        render('{% lazy "t_lazy_greeting" who=big %}', big=big_and_random)
    # compression keeps repetitive data small
    render('{% lazy "t_lazy_greeting" who=big %}', big=big[:50])
    with (
        override_settings(PERFSUITE={**settings.PERFSUITE, "LAZY_MAX_TOKEN_LENGTH": 50}),
        pytest.raises(ValueError, match="LAZY_MAX_TOKEN_LENGTH"),
    ):
        render('{% lazy "t_lazy_greeting" who="Ada" %}')


def test_register_as_decorator_and_bad_registrations() -> None:
    from django.core.exceptions import ImproperlyConfigured

    @register_lazy("t_lazy_decorated", fallback="…", when="load")
    def loader() -> type:
        return support.Greeting

    try:
        assert get_lazy("t_lazy_decorated").loader is loader
        page = render('{% lazy "t_lazy_decorated" who="a" %}')
        assert 'data-ps-when="load"' in page
    finally:
        unregister_lazy("t_lazy_decorated")
    with pytest.raises(ImproperlyConfigured, match="use letters"):
        register_lazy("../x", loader)
    with pytest.raises(ImproperlyConfigured, match="when must be"):
        register_lazy("t_lazy_x", loader, when="later")
    with pytest.raises(TypeError, match="CSS length"):
        register_lazy("t_lazy_x", loader, height="calc(1px)")
