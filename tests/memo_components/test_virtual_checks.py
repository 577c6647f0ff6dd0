"""Checks W210 (the window endpoint has no URL), W211 (a source orders by a nullable
field) and W212 (a source's first ordering field has no index)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

from perfsuite.memo_components.virtual_checks import check_orderings, check_urls
from perfsuite.memo_components.virtual_sources import (
    register_source,
    registered_sources,
    unregister_source,
)
from project.shop.models import Product


@pytest.fixture
def only_these() -> Iterator[list[str]]:
    """Register sources for one test; the demo's are set aside meanwhile."""
    saved = registered_sources()
    for name in saved:
        unregister_source(name)
    names: list[str] = []
    yield names
    for name in names:
        unregister_source(name)
    from perfsuite.memo_components import virtual_sources

    virtual_sources._sources.update(saved)  # as they were, with the module that registered them


def ids(messages: list) -> list[str]:  # type: ignore[type-arg]
    return [m.id for m in messages]


def test_w210_sources_without_the_endpoint(only_these: list[str]) -> None:
    with override_settings(ROOT_URLCONF="tests.urls_minimal"):
        assert check_urls() == []  # no source: nothing to warn about
        register_source("c-items", [1, 2, 3])
        only_these.append("c-items")
        [warning] = check_urls()
        assert warning.id == "perfsuite.W210" and "c-items" in warning.msg
    assert check_urls() == []  # the demo's URLconf includes the app's URLs


def test_w211_and_w212_orderings(only_these: list[str]) -> None:
    register_source("c-fine", Product.objects.all(), order=("name", "pk"))
    register_source("c-default", Product.objects.all())  # Meta.ordering: name (indexed)
    register_source("c-callable", lambda request: Product.objects.order_by("price"))
    only_these += ["c-fine", "c-default", "c-callable"]
    assert check_orderings() == []
    register_source("c-price", Product.objects.all(), order=("price",))
    only_these.append("c-price")
    assert ids(check_orderings()) == ["perfsuite.W212"]
    unregister_source("c-price")
    register_source("c-login", User.objects.all(), order=("last_login", "pk"))
    only_these.append("c-login")
    messages = check_orderings()
    assert ids(messages) == ["perfsuite.W211", "perfsuite.W212"]
    assert "last_login" in messages[0].msg


def test_the_demo_passes_its_checks() -> None:
    call_command("check", "--fail-level", "WARNING", verbosity=0)
