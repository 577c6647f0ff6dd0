"""The window endpoint of virtual lists: good windows, bad input (400, never a 500),
tokens bound to the list and the user, permissions; under WSGI and ASGI."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.template import engines
from django.test import AsyncClient, Client, RequestFactory

from perfsuite.core import metrics
from perfsuite.memo_components.virtual_render import SALT, make_token
from perfsuite.memo_components.virtual_sources import (
    generated,
    register_source,
    unregister_source,
)

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture(autouse=True)
def sources() -> Iterator[None]:
    register_source("w-items", generated(1000, lambda i: {"name": f"Item {i}"}))
    register_source("w-hostile", [{"name": HOSTILE}])
    register_source("w-staff", [{"name": "secret"}], permission="shop.view_product")
    register_source("w-mine", lambda request: [{"name": f"of {request.user.username}"}])
    yield
    for name in ("w-items", "w-hostile", "w-staff", "w-mine"):
        unregister_source(name)


def token_of(source: str, user: Any = None) -> str:
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    html = (
        engines["django"]
        .from_string(
            "{% load perfsuite_components %}"
            '{% virtual_list source item_template="shop/items_row.html" %}'
        )
        .render({"source": source}, request)
    )
    match = re.search(r'data-token="([^"]+)"', html)
    assert match
    return match[1]


Get = Callable[[str, dict[str, Any]], Any]


@pytest.fixture(params=["wsgi", "asgi"])
def get(request: pytest.FixtureRequest) -> Get:
    if request.param == "wsgi":
        client = Client()
        return lambda path, params: client.get(path, params)
    aclient = AsyncClient()
    return lambda path, params: async_to_sync(aclient.get)(path, params)


def window(get: Get, source: str, token: str, **params: Any) -> Any:
    return get(f"/components/virtual/{source}/", {"t": token, **params})


def test_a_window_of_rows(get: Get) -> None:
    metrics.registry.reset()
    token = token_of("w-items")
    response = window(get, "w-items", token, start=990, end=1000)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    data = response.json()
    assert (data["start"], data["end"], data["count"]) == (990, 1000, 1000)
    assert len(data["rows"]) == 10
    assert data["rows"][-1] == (
        '<div class="ps-vrow" role="row" aria-rowindex="1000" style="height:40px">'
        '<div role="cell"><span class="item-name">Item 999</span>\n</div></div>'
    )
    snap = metrics.registry.snapshot()
    assert snap.histogram("perfsuite_component_window_seconds", source="w-items").count == 1


def test_a_window_past_the_end_is_cut_or_empty(get: Get) -> None:
    token = token_of("w-items")
    data = window(get, "w-items", token, start=995, end=1200).json()
    assert (data["start"], data["end"], len(data["rows"])) == (995, 1000, 5)
    data = window(get, "w-items", token, start=5000, end=5010).json()
    assert (data["start"], data["end"], data["rows"]) == (1000, 1000, [])


def test_rows_are_escaped(get: Get) -> None:
    rows = window(get, "w-hostile", token_of("w-hostile"), start=0, end=1).json()["rows"]
    assert "<img" not in rows[0]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in rows[0]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "-1", "end": "5"},
        {"start": "0", "end": "-5"},
        {"start": "abc", "end": "5"},
        {"start": "1.5", "end": "5"},
        {"start": "0x10", "end": "20"},
        {"start": "١٢", "end": "20"},  # Arabic-Indic digits: isdigit(), not ours
        {"start": "", "end": "5"},
        {"end": "5"},
        {"start": "0"},
        {"start": "10", "end": "5"},
        {"start": "0", "end": "501"},
        {"start": "0", "end": "9" * 16},
        {"start": "9" * 40, "end": "9" * 40},
        {"start": "999999999999999", "end": "999999999999999999999"},
    ],
)
def test_bad_ranges_are_400(get: Get, params: dict[str, str]) -> None:
    response = window(get, "w-items", token_of("w-items"), **params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]


def test_an_unknown_source_is_400(get: Get) -> None:
    token = token_of("w-items")
    for name in ("nope", "shop.nomodel", "w-items%00", "a.b.c"):
        response = window(get, name, token, start=0, end=5)
        assert response.status_code in (400, 404), name  # %00: no route at all
        assert response.status_code != 500
    assert window(get, "nope", token, start=0, end=5).status_code == 400
    assert window(get, "shop.nomodel", token, start=0, end=5).status_code == 400


def test_tokens_are_checked(get: Get) -> None:
    token = token_of("w-items")
    assert window(get, "w-items", "", start=0, end=5).status_code == 400
    assert window(get, "w-items", token[:-2] + "xx", start=0, end=5).status_code == 400
    assert window(get, "w-items", "x" * 5000, start=0, end=5).status_code == 400
    # the token of another list, and a signed payload of the wrong shape
    assert window(get, "w-hostile", token, start=0, end=5).status_code == 400
    wrong = signing.dumps(["w-items"], salt=SALT)
    assert window(get, "w-items", wrong, start=0, end=5).status_code == 400
    partial = make_token({"s": "w-items", "u": None})
    assert window(get, "w-items", partial, start=0, end=5).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_token_belongs_to_the_user_it_was_shown_to(server: str) -> None:
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    token = token_of("w-mine", alice)
    clients = {}
    for user in (alice, bob):
        client = Client() if server == "wsgi" else AsyncClient()
        client.force_login(user)
        clients[user.username] = client

    def fetch(name: str) -> Any:
        client = clients[name]
        params = {"t": token, "start": 0, "end": 1}
        if server == "wsgi":
            return client.get("/components/virtual/w-mine/", params)
        return async_to_sync(client.get)("/components/virtual/w-mine/", params)

    response = fetch("alice")
    assert response.status_code == 200
    assert "of alice" in response.json()["rows"][0]
    assert fetch("bob").status_code == 403
    anonymous = Client().get("/components/virtual/w-mine/", {"t": token, "start": 0, "end": 1})
    assert anonymous.status_code == 403


@pytest.mark.django_db
def test_a_source_permission_is_checked_on_every_window() -> None:
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user("staff")
    staff.user_permissions.add(Permission.objects.get(codename="view_product"))
    token = token_of("w-staff", staff)
    client = Client()
    client.force_login(staff)
    url = "/components/virtual/w-staff/"
    assert client.get(url, {"t": token, "start": 0, "end": 1}).status_code == 200
    staff.user_permissions.clear()
    assert client.get(url, {"t": token, "start": 0, "end": 1}).status_code == 403
