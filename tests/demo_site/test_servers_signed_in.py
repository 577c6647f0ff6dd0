"""The whole demo, signed in, under real gunicorn and uvicorn with the production
switches (Redis, DEBUG off): every page answers 200 with the visitor's own name,
with Redis up and with Redis stopped, and a forged session cookie is anonymous."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from tests.helpers import ROOT, demo_env, manage, server_command
from tests.services import RedisServer, free_port, redis_binary, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PAGES = [
    *("/", "/products/", "/products/?page=2", "/posts/", "/posts/slow/", "/profile/"),
    *("/tasks/demo/", "/users/", "/users/?q=user&page=2"),
    *("/items/", "/products/virtual/", "/dashboard/"),
    *("/tasks/", "/tasks/thumbnail/", "/tasks/report/", "/tasks/cpu/"),
    "/memory/",
]
FORGED = "abcdefghijklmnopqrstuvwxyz012345"
#: what a page shows only to alice (the user list may name her to anyone)
SIGNED_IN = '<strong class="username">alice</strong>'


@pytest.fixture(scope="module")
def redis_for_servers() -> Iterator[RedisServer]:
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server not found")
    server = RedisServer(binary, persist=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def production_env(tmp_path_factory, redis_for_servers: RedisServer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    var = tmp_path_factory.mktemp("var")
    env = demo_env(
        PERFSUITE_VAR_DIR=str(var),
        REDIS_URL=redis_for_servers.url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="signed-in-server-test-" + "x" * 40,
    )
    for args in (
        ("migrate", "--noinput"),
        ("seed_demo", "--products", "60", "--users", "3", "--posts", "10"),
    ):
        result = manage(*args, env=env)
        assert result.returncode == 0, result.stderr
    script = (
        "from django.contrib.auth.models import User;"
        "User.objects.filter(username='alice').exists() or "
        "User.objects.create_user('alice', password='alice-pw-123')"
    )
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    return env


def start(server: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(server_command(server, port), cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=30)
    except TimeoutError:
        proc.kill()
        raise
    return proc, f"http://127.0.0.1:{port}"


def browser() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", "perfsuite-test")]
    return opener


def open_page(opener: urllib.request.OpenerDirector, url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sign_in(opener: urllib.request.OpenerDirector, base: str) -> None:
    status, html = open_page(opener, base + "/accounts/login/")
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    form = urllib.parse.urlencode(
        {
            "username": "alice",
            "password": "alice-pw-123",
            "next": "/profile/",
            "csrfmiddlewaretoken": token.group(1),
        }
    ).encode()
    request = urllib.request.Request(
        base + "/accounts/login/", data=form, headers={"Referer": base + "/accounts/login/"}
    )
    with opener.open(request, timeout=20) as response:
        assert response.status == 200
        assert response.url.endswith("/profile/"), response.url


def check_pages(base: str) -> None:
    alice = browser()
    sign_in(alice, base)
    forged = browser()
    anonymous = browser()
    for path in PAGES:
        for _ in range(2):  # a miss, then (where cacheable) a hit
            status, html = open_page(alice, base + path)
            assert status == 200, (path, status, html[:300])
            assert '<strong class="username">alice</strong>' in html, path
        status, html = open_page(
            forged, base + path, Cookie=f"sessionid={FORGED}", Accept="text/html"
        )
        assert status == 200, (path, status)
        assert SIGNED_IN not in html, path
        status, html = open_page(anonymous, base + path)
        assert status == 200 and SIGNED_IN not in html, path


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"])
def test_the_demo_signed_in_with_redis_up_and_down(
    server: str, production_env: dict[str, str], redis_for_servers: RedisServer
) -> None:
    proc, base = start(server, production_env)
    try:
        check_pages(base)
        redis_for_servers.stop()
        try:
            check_pages(base)  # uncached, but every answer still right
        finally:
            redis_for_servers.start()
        check_pages(base)
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    log = err.decode(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "SynchronousOnlyOperation" not in log
