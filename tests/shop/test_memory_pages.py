"""The demo's memory pages under WSGI and ASGI: this process's figures, the DEBUG-only
leak with its bounds, and a cleanup (the staff button) that gives half the leak back
through the clearable-cache registry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client, override_settings

from perfsuite.memory import memory_manager
from project.shop import memory_pages

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def no_leak() -> Iterator[None]:
    memory_pages._leak.clear()
    yield
    memory_pages._leak.clear()


def get(server: str, client: Any, path: str) -> Any:
    return client.get(path) if server == "wsgi" else async_to_sync(client.get)(path)


def client_for(server: str) -> Any:
    return Client() if server == "wsgi" else AsyncClient()


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_the_page_shows_this_process(server: str) -> None:
    client = client_for(server)
    client.force_login(User.objects.create_user("alice"))
    response = get(server, client, "/memory/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"pid {os.getpid()}" in html and "RSS" in html and "USS" in html
    assert "demo.leak" in html, "the leak is a registered clearable cache"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_the_leak_exists_with_debug_only_and_is_bounded(server: str) -> None:
    client = client_for(server)
    with override_settings(DEBUG=True):
        kept = get(server, client, "/memory/leak/?mb=3").json()
        assert kept["pid"] == os.getpid() and kept["leaked_mb"] == 3
        for bad in ("0", "-1", "abc", "", "257", "1e3", "３"):
            response = get(server, client, f"/memory/leak/?mb={bad}")
            assert response.status_code == 400, bad
            assert "mb must be" in response.json()["error"]
        memory_pages._leak.update({-n: [] for n in range(1, 1023)})  # near the process bound
        response = get(server, client, "/memory/leak/?mb=2")
        assert response.status_code == 400 and "at most 1024 MB" in response.json()["error"]
    assert get(server, client, "/memory/leak/?mb=3").status_code == 404  # DEBUG off


def test_a_cleanup_gives_back_half_the_leak() -> None:
    client = Client()
    with override_settings(DEBUG=True):
        assert client.get("/memory/leak/?mb=8").json()["leaked_mb"] == 8
        # not staff: sent to the admin's sign-in, nothing cleaned
        response = client.post("/memory/cleanup/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert memory_pages.leaked_mb() == 8
        client.force_login(User.objects.create_user("ops", is_staff=True))
        memory_manager._last_cleanup = -float("inf")  # past the cooldown
        assert client.post("/memory/cleanup/").status_code == 302
        assert memory_pages.leaked_mb() == 4, "the leak keeps its newer half"
        html = client.get("/memory/").content.decode()
    assert memory_manager.last_result is not None
    assert memory_manager.last_result["caches"]["demo.leak"] == 4
    assert "demo.leak: 4 entries removed" in html and "manual:" in html
    assert "Clean up now" in html
