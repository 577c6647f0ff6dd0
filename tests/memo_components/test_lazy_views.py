"""The lazy load endpoint: the component for a good token (WSGI and ASGI, anonymous and
signed in, sync and async loaders); 400/403/404/410 and never a 500 for a forged,
tampered, expired, too long, someone else's token or an unregistered name; a failing
loader answers 503 with an escaped message and is counted; nothing is cached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client, override_settings

from perfsuite.core import metrics
from perfsuite.memo_components.lazy import get_lazy, unregister_lazy
from perfsuite.memo_components.lazy_tokens import SALT, PropsSerializer, sign
from tests.memo_components import lazy_support as support
from tests.memo_components.lazy_support import HOSTILE, placeholder_url, render

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def lazies() -> Iterator[None]:
    support.register_all()
    support.CALLS.clear()
    yield
    for name in support.NAMES:
        unregister_lazy(name)


def loads(name: str, result: str) -> float:
    snap = metrics.registry.snapshot("all")
    return snap.counter_total("perfsuite_component_lazy_loads", component=name, result=result)


def url_for(name: str, user: Any = None, **props: Any) -> str:
    args = " ".join(f"{key}={key}" for key in props)
    return placeholder_url(render(f'{{% lazy "{name}" {args} %}}', user=user, **props))


def assert_never_cached(response: Any) -> None:
    cache_control = response.headers["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


def test_good_token_renders_the_component_escaped(client: Client) -> None:
    before = loads("t_lazy_greeting", "ok")
    response = client.get(url_for("t_lazy_greeting", who=HOSTILE))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = response.content.decode()
    assert body == (
        '<p class="greeting" style="height:80px">Hello '
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;&#x27;"
        "&lt;img src=x onerror=alert(1)&gt;</p>"
    )
    assert_never_cached(response)
    assert loads("t_lazy_greeting", "ok") == before + 1
    # the loaded class is kept: the loader ran once for two loads
    client.get(url_for("t_lazy_greeting", who="again"))
    assert support.CALLS == ["sync"]


def test_tampered_token_is_refused(client: Client) -> None:
    url = url_for("t_lazy_greeting", who="Ada")
    path, token = url.split("?t=")
    payload, _, signature = token.rpartition(":")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    for bad in (flipped + ":" + signature, payload + ":" + signature[::-1], token + "x", ""):
        response = client.get(path, {"t": bad})
        assert response.status_code == 400, bad
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert_never_cached(response)
    assert client.get(path).status_code == 400  # no token at all


def test_forged_token_is_refused(client: Client) -> None:
    payload = {"c": "t_lazy_greeting", "p": {"who": "Mallory"}, "u": None}
    forged = signing.dumps(
        payload,
        key="not-the-secret-key",
        salt=SALT + "t_lazy_greeting",
        serializer=PropsSerializer,
        compress=True,
    )
    unsalted = signing.dumps(payload, compress=True)  # the right key, Django's default salt
    for token in (forged, unsalted):
        response = client.get("/components/lazy/t_lazy_greeting/", {"t": token})
        assert response.status_code == 400
        assert b"Mallory" not in response.content


def test_token_of_one_component_does_not_load_another(client: Client) -> None:
    token = url_for("t_lazy_greeting", who="Ada").split("?t=")[1]
    response = client.get("/components/lazy/t_lazy_async/", {"t": token})
    assert response.status_code == 400
    # even a token signed with that component's salt must name it inside
    inner = signing.dumps(
        {"c": "t_lazy_greeting", "p": {"who": "a"}, "u": None},
        salt=SALT + "t_lazy_async",
        serializer=PropsSerializer,
    )
    assert client.get("/components/lazy/t_lazy_async/", {"t": inner}).status_code == 400


def test_unregistered_component_is_404_even_with_a_valid_signature(client: Client) -> None:
    # a name that is a registered (non-lazy) component, signed with the right key
    token = sign("product_card", {"product": 1})
    for name in ("product_card", "nope", "..", "t_lazy_greeting%2F.."):
        response = client.get(f"/components/lazy/{name}/", {"t": token})
        assert response.status_code == 404, name
    # and one that was lazy once, then unregistered
    url = url_for("t_lazy_crashing")
    unregister_lazy("t_lazy_crashing")
    assert client.get(url).status_code == 404


def test_expired_token_is_410(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    url = url_for("t_lazy_greeting", who="Ada")
    assert client.get(url).status_code == 200
    with override_settings(PERFSUITE={**settings.PERFSUITE, "LAZY_MAX_AGE": 60}):
        monkeypatch.setattr(
            signing.TimestampSigner,
            "timestamp",
            lambda self: signing.b62_encode(int(signing.time.time()) - 3600),
        )
        old = url_for("t_lazy_greeting", who="Ada")
        monkeypatch.undo()
        response = client.get(old)
    assert response.status_code == 410
    assert "reload the page" in response.content.decode()


def test_too_long_token_is_400_before_any_signature_work(client: Client) -> None:
    response = client.get("/components/lazy/t_lazy_greeting/", {"t": "x" * 5000})
    assert response.status_code == 400
    assert "too long" in response.content.decode()


def test_only_get(client: Client) -> None:
    url = url_for("t_lazy_greeting", who="Ada")
    assert client.post(url).status_code == 405


def test_failing_loader_is_503_escaped_text_and_counted(client: Client) -> None:
    before = loads("t_lazy_broken", "error")
    response = client.get(url_for("t_lazy_broken"))
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == HOSTILE  # text/plain: the script shows it as text
    assert_never_cached(response)
    assert loads("t_lazy_broken", "error") == before + 1


def test_unexpected_exception_shows_a_generic_message_unless_debug(client: Client) -> None:
    url = url_for("t_lazy_crashing")
    before = loads("t_lazy_crashing", "error")
    response = client.get(url)
    assert response.status_code == 503
    assert "secret detail" not in response.content.decode()
    assert "could not be loaded" in response.content.decode()
    with override_settings(DEBUG=True):
        assert "RuntimeError: secret detail" in client.get(url).content.decode()
    bad = client.get(url_for("t_lazy_not_component"))
    assert bad.status_code == 503
    assert loads("t_lazy_crashing", "error") == before + 2
    assert loads("t_lazy_not_component", "error") >= 1


def test_props_that_no_longer_fit_the_component_are_a_load_failure(client: Client) -> None:
    url = url_for("t_lazy_greeting", nobody="x")  # Greeting has no prop 'nobody'
    assert client.get(url).status_code == 503


# -- ASGI -------------------------------------------------------------------------------


def test_async_loader_under_asgi_renders_off_the_event_loop(async_client: Any) -> None:
    User.objects.create_user("counted")
    url = url_for("t_lazy_async", who=HOSTILE)
    response = async_to_sync(async_client.get)(url)
    assert response.status_code == 200, response.content
    body = response.content.decode()
    # Counting's context ran a query: in Django's sync thread, not on the loop
    assert 'style="height:1px"' in body and "&lt;script&gt;" in body and "<script>" not in body
    assert support.CALLS == ["async"]


def test_sync_loader_under_asgi(async_client: Any) -> None:
    response = async_to_sync(async_client.get)(url_for("t_lazy_greeting", who="Ada"))
    assert response.status_code == 200
    assert response.content.decode().endswith("Hello Ada</p>")
    assert_never_cached(response)


def test_async_loader_under_wsgi(client: Client) -> None:
    User.objects.create_user("counted")
    response = client.get(url_for("t_lazy_async", who="Ada"))
    assert response.status_code == 200
    assert 'style="height:1px"' in response.content.decode()


def test_refusals_and_failures_under_asgi(async_client: Any) -> None:
    get = async_to_sync(async_client.get)
    assert get("/components/lazy/t_lazy_greeting/", {"t": "x.y:z"}).status_code == 400
    assert get("/components/lazy/nope/", {"t": "x"}).status_code == 404
    assert get(url_for("t_lazy_broken")).status_code == 503


def test_direct_load_of_an_async_loader_from_sync_code() -> None:
    assert get_lazy("t_lazy_async").load() is support.Counting


# -- signed in --------------------------------------------------------------------------


def test_signed_in_token_is_for_that_user_only(client: Client) -> None:
    ada = User.objects.create_user("ada", password="pw-123456-ada")
    bob = User.objects.create_user("bob", password="pw-123456-bob")
    url = url_for("t_lazy_greeting", user=ada, who="Ada's own")

    client.force_login(ada)
    assert client.get(url).status_code == 200
    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 403
    assert b"Ada's own" not in response.content
    client.logout()
    assert client.get(url).status_code == 403  # anonymous
    # and an anonymous page's token does not load for a signed-in user
    anonymous = url_for("t_lazy_greeting", who="x")
    assert client.get(anonymous).status_code == 200
    client.force_login(ada)
    assert client.get(anonymous).status_code == 403


def test_signed_in_under_asgi(async_client: Any) -> None:
    ada = User.objects.create_user("ada", password="pw-123456-ada")
    url = url_for("t_lazy_async", user=ada, who="Ada")
    async_client.force_login(ada)
    response = async_to_sync(async_client.get)(url)
    assert response.status_code == 200
    async_client.logout()
    assert async_to_sync(async_client.get)(url).status_code == 403
