"""The demo's task pages through HTTP: /send-notification's answers for every bad
input, the thumbnail, report and CPU pages, and who may see what. What reaches the
broker is recorded here; tests/tasks/test_worker_types.py runs the real thing."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from perfsuite.tasks import tasks

pytestmark = pytest.mark.django_db(transaction=True)  # tasks are sent on commit

User = get_user_model()


def signed_in(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post_json(client: Client, body: Any, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/send-notification", data, content_type=content_type)


def test_send_notification_queues_an_email(sent: list[Any]) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    boss = User.objects.create_user("boss", "boss@example.com", "pw", is_staff=True)
    own = post_json(signed_in(ann, enforce_csrf_checks=True), {"user_id": ann.pk, "message": "Hi"})
    assert own.status_code == 202 and own["Cache-Control"].startswith("max-age=0")
    assert own.json() == {"status": "queued", "task_id": sent[0][2]}
    assert sent[0][1] == {"to": "ann@example.com", "subject": "Notification", "body": "Hi"}
    nomail = User.objects.create_user("nomail")
    staff = post_json(signed_in(boss), {"user_id": nomail.pk, "message": "x" * 2000})
    assert staff.status_code == 202 and sent[1][1]["to"] == f"user_{nomail.pk}@example.com"


BAD = [
    ("{not json", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    ([1, 2], 400, "JSON object"),
    ({"message": "Hi"}, 400, "missing field: user_id"),
    ({"user_id": 1}, 400, "missing field: message"),
    ({"user_id": "1", "message": "Hi"}, 400, "user_id must be a positive integer"),
    ({"user_id": True, "message": "Hi"}, 400, "user_id must be a positive integer"),
    ({"user_id": 1, "message": "  "}, 400, "message must be a non-empty string"),
    ({"user_id": 1, "message": "x" * 2001}, 400, "longer than 2000 characters"),
    ({"user_id": 999_999, "message": "Hi"}, 404, "no user 999999"),
]


@pytest.mark.parametrize(("body", "status", "reason"), BAD)
def test_send_notification_refuses_bad_input(
    body: Any, status: int, reason: str, sent: list[Any]
) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    if isinstance(body, dict) and body.get("user_id") == 1 and body["user_id"] is not True:
        body["user_id"] = ann.pk
    answer = post_json(signed_in(ann), body)
    assert answer.status_code == status and reason in answer.json()["error"]
    assert sent == []


def test_send_notification_needs_a_signed_in_json_caller(sent: list[Any]) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    bob = User.objects.create_user("bob", "bob@example.com", "pw")
    body = {"user_id": bob.pk, "message": "Hi"}
    assert post_json(Client(), body).status_code == 401
    assert signed_in(ann).get("/send-notification").status_code == 405
    form = post_json(signed_in(ann), "user_id=1", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415, "no cross-site form can post it"
    assert post_json(signed_in(ann), body).status_code == 403, "only staff notify others"
    assert sent == []


def test_task_status_takes_only_task_ids() -> None:
    assert Client().get("/tasks/not-a-uuid/").status_code == 404


def png(size: tuple[int, int] = (300, 200)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return SimpleUploadedFile("cat.png", out.getvalue(), content_type="image/png")


def test_thumbnail_page(sent: list[Any], media: Path) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    client = signed_in(ann)
    assert Client().get("/tasks/thumbnail/").status_code == 302, "sign in first"
    refused = client.post("/tasks/thumbnail/", {"image": SimpleUploadedFile("a.png", b"text")})
    assert refused.status_code == 200 and sent == []
    page = client.post("/tasks/thumbnail/", {"image": png()}).content.decode()
    ((_, payload, task_id, *_),) = sent
    assert task_id in page and "being made" in page
    upload = re.fullmatch(rf"uploads/{ann.pk}/([0-9a-f-]{{36}})\.png", payload["filename"])
    assert upload and payload["width"] == payload["height"] == 128
    tasks.process_image.apply(kwargs=payload, task_id=task_id).get()
    ready = client.get(f"/tasks/thumbnail/?upload={upload[1]}").content.decode()
    assert f'src="/tasks/thumbnail/{upload[1]}.png"' in ready
    image = client.get(f"/tasks/thumbnail/{upload[1]}.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(image.streaming_content))) as thumb:
        assert thumb.size == (128, 85)
    bob = signed_in(User.objects.create_user("bob"))
    assert bob.get(f"/tasks/thumbnail/{upload[1]}.png").status_code == 404, "ann's only"


def test_report_page_and_download(sent: list[Any], media: Path) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    client = signed_in(ann)
    assert client.post("/tasks/report/", {"type": "users"}).status_code == 200 and sent == []
    assert "None yet" in client.get("/tasks/report/").content.decode()
    client.post("/tasks/report/", {"type": "posts"})
    ((_, payload, task_id, *_),) = sent
    assert payload == {
        "type": "posts",
        "model": "shop.Post",
        "fields": ["id", "title", "author_id", "status", "created_at"],
        "user_id": ann.pk,
    }
    tasks.generate_report.apply(kwargs=payload, task_id=task_id).get()
    link = f"/tasks/report/{task_id}.csv"
    assert link in client.get("/tasks/report/").content.decode()
    download = client.get(link)
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    assert b"".join(download.streaming_content).startswith(b"id,title,author_id")
    assert signed_in(User.objects.create_user("bob")).get(link).status_code == 404
    assert Client().get(link).status_code == 302


def test_cpu_page(sent: list[Any]) -> None:
    client = signed_in(User.objects.create_user("ann"))
    assert client.post("/tasks/cpu/", {"rounds": "0"}).status_code == 200 and sent == []
    page = client.post("/tasks/cpu/", {"rounds": "1000"}).content.decode()
    assert sent[0][1]["rounds"] == 1000 and sent[0][2] in page


def test_index_and_navigation() -> None:
    page = Client().get("/tasks/").content.decode()
    for url in ("/tasks/thumbnail/", "/tasks/report/", "/tasks/cpu/", "/tasks/demo/"):
        assert f'href="{url}"' in page
    assert 'href="/tasks/"' in Client().get("/").content.decode()


def test_the_demo_task_that_fails_once_and_the_link_to_task_runs(
    settings: Any, tmp_path: Any
) -> None:
    from project.shop.tasks import DemoFailure, fails_once

    settings.VAR_DIR = tmp_path
    with pytest.raises(DemoFailure):
        fails_once.run("t1")
    assert fails_once.run("t1") == "t1: succeeded on a retry", "the retry by hand succeeds"
    with pytest.raises(DemoFailure):
        fails_once.run("t2")
    for url in ("/tasks/", "/tasks/demo/"):
        page = Client().get(url).content.decode()
        assert 'href="/admin/perfsuite_tasks/taskrun/"' in page
    assert 'value="fails-once"' in Client().get("/tasks/demo/").content.decode()
