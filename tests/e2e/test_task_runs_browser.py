"""The Task runs page in Debian's chromium, against the demo under gunicorn and uvicorn
with a real Celery worker (the embedded broker): a success and a failure appear with
their times, worker and traceback, the filter by state narrows the list, a staff
member retries the failed run by hand (POST with CSRF, recorded who), and people who
may not see it or retry get the login page or 403.

A screenshot of the page is left at ``/tmp/task_runs.png``.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.helpers import ROOT, demo_env, manage, server_command
from tests.services import free_port, wait_for_port
from tests.tasks.workers import WORKER_SETTINGS, migrated, produce, wait_for, worker

pytestmark = pytest.mark.slow
PASSWORD = "runs-pw-123456"
LIST = "/admin/perfsuite_tasks/taskrun/"
USERS = f"""
from django.contrib.auth.models import Permission, User
User.objects.create_superuser("admin", "admin@example.com", {PASSWORD!r})
viewer = User.objects.create_user("viewer", password={PASSWORD!r}, is_staff=True)
viewer.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
User.objects.create_user("staffer", password={PASSWORD!r}, is_staff=True)
User.objects.create_user("bob", password={PASSWORD!r})
"""
SEND = """
import json
from tests.tasks import worker_tasks
print(json.dumps([worker_tasks.effect.delay({folder!r}, "ok").id,
                  worker_tasks.fails_once.delay({folder!r}, "x").id]))
"""
ROW = """
import json
from perfsuite.tasks.models import TaskRun
print(json.dumps(TaskRun.objects.filter({field}={value!r}).values(
    "task_id", "state", "worker", "started_at", "finished_at", "retried_by",
    "retry_task_id").first(), default=str))
"""


@pytest.fixture
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    var = tmp_path_factory.mktemp("var")
    env = migrated(demo_env(PERFSUITE_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE=WORKER_SETTINGS))
    result = manage("shell", "-c", USERS, env=env)
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def server(request: pytest.FixtureRequest, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(server_command(request.param, port), cwd=ROOT, env=env)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def row(env: dict[str, str], field: str, value: str) -> Any:
    return produce(ROW.format(field=field, value=value), env)


def sign_in(browser: Any, base: str, who: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{base}/admin/login/?next={LIST}")
    page.fill("#id_username", who)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.parametrize("server", ["gunicorn", "uvicorn"], indirect=True)
def test_task_runs_in_a_browser(env: dict[str, str], server: str, tmp_path: Path) -> None:
    playwright_context = sync_playwright()
    with worker(env) as proc:
        ok, failed = produce(SEND.format(folder=str(tmp_path)), env, proc)
        wait_for(
            lambda: (row(env, "task_id", failed) or {}).get("state") == "FAILURE",
            60,
            "the failed run in the history",
        )
        wait_for(
            lambda: (row(env, "task_id", ok) or {}).get("state") == "SUCCESS",
            60,
            "the succeeded run in the history",
        )
        with playwright_context as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = sign_in(browser, server, "admin")
                assert page.url.endswith(LIST), page.url
                text = page.inner_text("#result_list")
                assert "tests.tasks.worker_tasks.effect" in text and "SUCCESS" not in text
                assert "succeeded" in text and "failed" in text
                assert page.locator("#perfsuite-inflight").count() == 1
                page.screenshot(path="/tmp/task_runs.png", full_page=True)

                page.click("#changelist-filter a:text-is('failed')")
                page.wait_for_url(re.compile(r".*state__exact=FAILURE"))
                rows = page.locator("#result_list tbody tr")
                assert rows.count() == 1
                assert "fails_once" in rows.first.inner_text()

                rows.first.locator("a").first.click()
                page.wait_for_load_state()
                body = page.inner_text("#content")
                assert "the first run of x fails" in body, "the traceback is shown"
                assert "<str>, <str> (redacted" in body, "arguments redacted by default"
                assert str(tmp_path) not in body
                page.click("#perfsuite-retry")
                page.wait_for_load_state()
                assert "again as" in page.inner_text(".messagelist")
                retried = row(env, "task_id", failed)
                assert retried["retried_by"] == "admin" and retried["retry_task_id"]
                wait_for(
                    lambda: (
                        (row(env, "task_id", retried["retry_task_id"]) or {}).get("state")
                        == "SUCCESS"
                    ),
                    60,
                    "the retried run",
                )

                viewer = sign_in(browser, server, "viewer")
                assert viewer.url.endswith(LIST)
                viewer.goto(f"{server}/admin/perfsuite_tasks/taskrun/?state__exact=FAILURE")
                viewer.locator("#result_list tbody tr a").first.click()
                viewer.wait_for_load_state()
                assert viewer.locator("#perfsuite-retry").count() == 0, "no retry permission"
                found = re.search(r"/taskrun/(\d+)/change/", viewer.url)
                assert found is not None, viewer.url
                pk = found.group(1)
                status = viewer.evaluate(
                    """async (url) => {
                        const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
                        const r = await fetch(url, {method: 'POST', redirect: 'manual',
                            headers: {'X-CSRFToken': token}});
                        return r.status; }""",
                    f"{server}/admin/perfsuite_tasks/taskrun/{pk}/retry/",
                )
                assert status == 403

                staffer = sign_in(browser, server, "staffer")
                response = staffer.goto(server + LIST)
                assert response is not None and response.status == 403
                for who in ("bob", None):
                    page = sign_in(browser, server, who) if who else browser.new_page()
                    page.goto(server + LIST)
                    assert "/admin/login/" in page.url, who
                    assert "fails_once" not in page.content()
            finally:
                browser.close()
