"""gunicorn with 2 workers on PostgreSQL (Django's pool, one per worker) and the Redis
store: the dashboard's "Connection pool" panel and ``dbpool`` sum both workers' pools;
the "Database queries" panel lists the N+1 findings of both workers with their line;
the user search runs on PostgreSQL's full-text index."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, manage, seeded_demo, server_command
from tests.services import free_port, wait_for_port

pytestmark = [pytest.mark.slow, pytest.mark.redis]
N = 60
SLOW = 8


def sign_in(base: str) -> urllib.request.OpenerDirector:
    import http.cookiejar

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(base + "/accounts/login/", timeout=20) as response:
        html = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    form = urllib.parse.urlencode(
        {"username": "dba", "password": "dba-pw-123", "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(
        base + "/accounts/login/", data=form, headers={"Referer": base + "/accounts/login/"}
    )
    with opener.open(request, timeout=20) as response:
        assert response.status == 200
    return opener


def status_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return int(response.status)


def slow_line() -> str:
    """``file:line`` of the demo's N+1 loop."""
    lines = (ROOT / "project/shop/views.py").read_text().splitlines()
    number = next(n for n, line in enumerate(lines, 1) if "# N+1 unless fixed" in line)
    return f"project/shop/views.py:{number}"


def get_json(opener: urllib.request.OpenerDirector, url: str) -> Any:
    with opener.open(url, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def pool_row(data: dict[str, Any]) -> dict[str, Any]:
    stats = next(p for p in data["panels"] if p["id"] == "query_opt_pool")["stats"]
    return next((row for row in stats["aliases"] if row["alias"] == "default"), {})


def test_two_gunicorn_workers_pools_are_summed_on_the_dashboard(
    demo_database: str, redis_url: str, tmp_path: Path
) -> None:
    env = seeded_demo(str(tmp_path), DATABASE_URL=demo_database, REDIS_URL=redis_url)
    script = (
        "from django.contrib.auth.models import User;"
        "from project.shop.models import Post;"
        "User.objects.create_superuser('dba', 'dba@example.com', 'dba-pw-123');"
        "[Post.objects.create(author=User.objects.create_user(f'poster{n}'), title='t', body='')"
        " for n in range(12)]"  # the seeded 4 posts are under the N+1 threshold
    )
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        server_command("gunicorn", port, workers=2),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)
        staff = sign_in(base)
        feed = base + "/admin/performance/data.json?window=5m"
        # Every feed request reads the signed-in user: one connection from a pool each.
        with ThreadPoolExecutor(8) as threads:
            list(threads.map(lambda _: get_json(staff, feed), range(N)))
            # distinct query strings: each a cache miss, each running the N+1 view
            slow = list(threads.map(lambda n: status_of(f"{base}/posts/slow/?n={n}"), range(SLOW)))
        assert slow == [200] * SLOW, "findings are logged, not raised"
        anonymous = urllib.request.build_opener()
        found = get_json(anonymous, base + "/users/search.json?q=user0")  # full-text prefix
        assert found["total_count"] > 0 and found["users"][0]["username"].startswith("user0")
        misspelt = get_json(anonymous, base + "/users/search.json?q=userr0001")  # trigram
        assert [u["username"] for u in misspelt["users"]] == ["user0001"]
        deadline = time.monotonic() + 30
        row = pool_row(get_json(staff, feed))
        while time.monotonic() < deadline and not (
            row.get("processes") == 2 and row.get("requests", 0) >= N
        ):
            time.sleep(0.2)
            row = pool_row(get_json(staff, feed))
        assert row.get("processes") == 2, row  # both workers reported their pool
        sizes = [figures["size"] for figures in row["per_process"].values()]
        # each worker's pool holds its own connections (1 or 2: psycopg_pool grows by
        # one when the first client comes before the pool's first connection); summed
        assert len(sizes) == 2 and min(sizes) >= 1 and row["size"] == sum(sizes)
        assert row["min_size"] == 2 and row["max_size"] == 20  # 1 and 10 per worker, summed
        assert row["waiting"] == 0 and row["errors"] == 0 and row["connections_lost"] == 0
        assert row["requests"] >= N  # handed out by both pools together
        fragments = get_json(staff, base + "/admin/performance/fragments.json?window=5m")
        html = fragments["html"]["panels"]
        assert "Connection pool" in html
        shown = re.search(r'<td data-pool-stat="size">(\d+)</td>', html)
        assert shown is not None and int(shown.group(1)) >= 2
        deadline = time.monotonic() + 30  # each worker flushes its figures every second
        while True:
            panels = get_json(staff, feed)["panels"]
            queries = next(p for p in panels if p["id"] == "query_opt")
            sites = [s for s in queries["stats"]["sites"] if s["route"] == "posts/slow/"]
            if (sites and sites[0]["count"] >= SLOW) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        # one N+1 finding per request, from both workers, with the loop's line
        assert sites == [
            {
                "kind": "n_plus_one",
                "route": "posts/slow/",
                "caller": slow_line(),
                "relation": "",
                "count": SLOW,
            }
        ], queries["stats"]
        assert slow_line() in html
        result = manage("dbpool", "--json", env=env)
        assert result.returncode == 0, result.stderr
        (default,) = json.loads(result.stdout)["databases"]
        assert default["pool"] is True and default["processes"] == 2
        per_process = [figures["size"] for figures in default["per_process"].values()]
        assert default["size"] == sum(per_process) and min(per_process) >= 1
        assert default["min_size"] == 1 and default["max_size"] == 10  # per process
        assert default["idle_size"] is not None and default["requests"] >= N
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=60)
