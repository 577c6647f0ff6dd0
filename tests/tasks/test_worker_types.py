"""Each task type end to end on a real prefork worker, on the embedded broker and on
Redis: the mail file exists, the thumbnail has the right size, the CSV has every row,
the CPU work ran in a pool process; the demo's /send-notification and /tasks/<id>/."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import seeded_demo
from tests.tasks.workers import produce, worker

pytestmark = pytest.mark.slow

PRODUCE = """
import json
from celery.result import AsyncResult
from django.contrib.auth import get_user_model
from django.test import Client
from perfsuite.tasks.processor import task_processor

users = get_user_model().objects
staff = users.create_user("staffer", "staff@example.com", "pw", is_staff=True)
target = users.exclude(pk=staff.pk).order_by("pk").first()
boss, other = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
boss.force_login(staff)
other.force_login(target)
body = json.dumps({"user_id": target.pk, "message": "Hello from a worker"})
answer = boss.post("/send-notification", body, content_type="application/json")
assert answer.status_code == 202, answer.content
ids = {
    "send_email": answer.json()["task_id"],
    "process_image": task_processor.queue_task(
        "process_image", {"filename": "uploads/pic.png", "width": 64, "height": 64}
    ),
    "generate_report": task_processor.queue_task(
        "generate_report",
        {"type": "products", "model": "shop.Product", "fields": ["id", "name"],
         "user_id": staff.pk},
    ),
    "cpu_intensive": task_processor.queue_task("cpu_intensive", {"rounds": 50000}),
}
results = {name: AsyncResult(task_id).get(timeout=90) for name, task_id in ids.items()}
report = ids["generate_report"]
print(json.dumps({
    "answer": answer.json(),
    "ids": ids,
    "results": results,
    "to": target.email,
    "staff_sees": boss.get(f"/tasks/{ids['send_email']}/").json(),
    "user_sees": other.get(f"/tasks/{ids['send_email']}/").json(),
    "download": [boss.get(f"/tasks/report/{report}.csv").status_code,
                 other.get(f"/tasks/report/{report}.csv").status_code],
}))
"""


def run_every_type(var: Path, **extra: str) -> None:
    env = seeded_demo(str(var), **extra)
    (var / "media" / "uploads").mkdir(parents=True)
    Image.new("RGB", (200, 150), "teal").save(var / "media" / "uploads" / "pic.png")
    with worker(env) as proc:
        out = produce(PRODUCE, env, proc)
    assert out["answer"] == {"status": "queued", "task_id": out["ids"]["send_email"]}
    results = out["results"]

    mails = list((var / "mail").iterdir())
    assert len(mails) == 1, "one mail file"
    text = mails[0].read_text()
    assert "Hello from a worker" in text and f"To: {out['to']}" in text
    assert results["send_email"] == {"to": out["to"], "subject": "Notification", "sent": 1}

    thumb = var / "media" / results["process_image"]["thumbnail"]
    assert thumb.name == "pic_64x64.png"
    with Image.open(thumb) as image:
        assert image.size == (64, 48) == tuple(results["process_image"]["size"])

    report = var / "media" / results["generate_report"]["file"]
    with report.open(newline="") as rows:
        lines = list(csv.reader(rows))
    assert lines[0] == ["id", "name"] and len(lines) == 61 == results["generate_report"]["rows"] + 1
    assert len({row[0] for row in lines[1:]}) == 60, "every product once"
    assert out["download"] == [200, 404], "the requester only"

    cpu = results["cpu_intensive"]
    assert cpu["rounds"] == 50000 and cpu["pid"] != proc.pid, "a prefork pool process"

    assert out["staff_sees"]["state"] == "SUCCESS" and out["staff_sees"]["result"]["sent"] == 1
    assert out["user_sees"] == {
        "task_id": out["ids"]["send_email"],
        "state": "SUCCESS",
        "ready": True,
    }, "the result body only to staff"


def test_every_task_type_on_the_embedded_broker(tmp_path: Path) -> None:
    run_every_type(tmp_path)


def test_every_task_type_through_redis(tmp_path: Path, redis_url: str) -> None:
    run_every_type(tmp_path, REDIS_URL=redis_url)
