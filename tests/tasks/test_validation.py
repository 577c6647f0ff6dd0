"""Bad data never gets past the caller: text that is not UTF-8 (a lone surrogate) is a
ValueError from queue_task for every task type, nested strings and keys included, and
/send-notification answers 400, never 500, to any malformed body (a number too long
for Python's int, arrays nested too deep, arbitrary bytes). And the guide's class
knows its four task types in every new instance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from perfsuite.tasks.processor import BackgroundTaskProcessor, task_processor
from tests.helpers import ROOT

User = get_user_model()
LONE = "\ud800"  # half a surrogate pair: a str Python holds, no UTF-8 encoder takes

GUIDE = ["cpu_intensive", "generate_report", "process_image", "send_email"]


class FakeTask:
    name = "tests.fake"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def signed_in(user: Any) -> Client:
    client = Client(raise_request_exception=False)  # a view's error is a 500 here
    client.force_login(user)
    return client


def notify(client: Client, body: str | bytes, **headers: str) -> Any:
    return client.post("/send-notification", body, content_type="application/json", **headers)


SURROGATES = [
    ("send_email", {"to": "ann@example.com", "subject": "Hi", "body": f"a{LONE}b"}),
    ("send_email", {"to": "ann@example.com", "subject": f"\udc80{LONE}", "body": "x"}),
    ("cpu_intensive", {"rounds": 10, "seed": LONE}),
]


@pytest.mark.parametrize(("task_type", "data"), SURROGATES)
def test_a_lone_surrogate_is_a_value_error_for_the_guides_types(
    task_type: str, data: dict[str, Any], sent: list[Any]
) -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        task_processor.queue_task(task_type, data)
    assert sent == []


@pytest.mark.django_db(transaction=True)  # sent on commit
@pytest.mark.parametrize(
    "data",
    [
        {"text": LONE},
        {"deep": [{"deeper": ["ok", f"x{LONE}"]}]},
        {"nested": {LONE: 1}},
        {LONE: "a key"},
    ],
)
def test_every_string_of_any_types_data_must_be_utf8(data: dict[str, Any]) -> None:
    """Checked by the processor itself, for a type without a validator too."""
    processor = BackgroundTaskProcessor()
    task = FakeTask()
    processor.register("raw", task)
    with pytest.raises(ValueError, match="UTF-8"):
        processor.queue_task("raw", data)
    processor.queue_task("raw", {"text": "ünïcödé ✓ 𝄞", "nested": {"κλειδί": ["ok"]}})
    assert [m["kwargs"]["nested"] for m in task.sent] == [{"κλειδί": ["ok"]}]


MALFORMED = [
    ('{"user_id": %s, "message": "Hi"}' % ("9" * 5000), "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('{"a": ' * 100_000, "not valid JSON"),
    ('{"user_id": USER, "message": "a\\ud800b"}', "UTF-8"),
    ('{"user_id": USER, "message": "\\udfff"}', "UTF-8"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("body", "reason"), MALFORMED)
def test_a_malformed_notification_is_a_400(body: str, reason: str, sent: list[Any]) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    answer = notify(signed_in(ann), body.replace("USER", str(ann.pk)))
    assert answer.status_code == 400, answer.content[:300]
    assert reason in answer.json()["error"]
    assert sent == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def st_open(depth: int) -> str:
    """Arrays, objects or both opened ``depth`` deep (and not closed)."""
    return "".join("[" if n % 3 else '{"a": ' for n in range(depth))


@pytest.mark.django_db(transaction=True)
def test_no_body_is_a_500(sent: list[Any]) -> None:
    ann = User.objects.create_user("ann", "ann@example.com", "pw")
    client = signed_in(ann)

    @settings(max_examples=150, deadline=None, database=None)
    @given(
        st.binary(min_size=1, max_size=64)
        | JSON_VALUES.map(json.dumps)
        | st.integers(4_301, 6_000).map(lambda n: '{"user_id": %s, "message": "x"}' % ("7" * n))
        | st.integers(2_000, 200_000).map(st_open)
        | st.fixed_dictionaries(
            {"user_id": st.integers() | st.just(ann.pk) | JSON_VALUES, "message": JSON_VALUES}
        ).map(json.dumps)
    )
    def check(body: str | bytes) -> None:
        answer = notify(client, body)
        assert answer.status_code in (202, 400, 403, 404), (body, answer.content[:300])

    check()


@pytest.mark.django_db(transaction=True)  # sent on commit
def test_a_new_processor_knows_the_guides_four_types(sent: list[Any]) -> None:
    fresh = BackgroundTaskProcessor()
    assert fresh.task_types() == GUIDE
    task_id = fresh.queue_task("cpu_intensive", {"rounds": 10})
    assert [(args[1], args[2]) for args in sent] == [({"rounds": 10, "seed": ""}, task_id)]
    with pytest.raises(ValueError, match="rounds must be"):
        fresh.queue_task("cpu_intensive", {"rounds": 0})  # the guide's validator


@pytest.mark.django_db(transaction=True)  # sent on commit
def test_registering_more_types_and_replacing_one_stays_possible() -> None:
    mine, extra = FakeTask(), FakeTask()
    before = BackgroundTaskProcessor()
    before.register("send_email", mine)  # before the guide's are loaded: it stays
    after = BackgroundTaskProcessor()
    assert after.task_types() == GUIDE
    after.register("send_email", mine)  # after: it replaces the guide's
    after.register("extra", extra)
    for processor in (before, after):
        processor.queue_task("send_email", {"anything": "goes"})
    after.queue_task("extra", {"n": 1})
    assert before.task_types() == GUIDE
    assert after.task_types() == sorted([*GUIDE, "extra"])
    assert [m["kwargs"] for m in mine.sent] == [{"anything": "goes"}] * 2
    assert [m["kwargs"] for m in extra.sent] == [{"n": 1}]


NOT_IMPORTED = 'assert "perfsuite.tasks.task_types" not in sys.modules, "no work at import"\n'
LAZY = f"""
import sys
import perfsuite.tasks.processor as processor
fresh = processor.BackgroundTaskProcessor()
{NOT_IMPORTED}assert "perfsuite.tasks.tasks" not in sys.modules, "no work at construction"
import django
django.setup()
print(",".join(fresh.task_types()))
"""


@pytest.mark.parametrize("first", ["perfsuite.tasks.processor", "perfsuite.tasks.task_types"])
def test_the_guides_types_load_lazily_and_without_an_import_circle(first: str) -> None:
    code = LAZY
    if first.endswith("task_types"):  # imported first: then the processor
        code = f"import {first}\n" + LAZY.replace(NOT_IMPORTED, "")
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT), "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(ROOT), env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (done.stdout.strip().splitlines() or [""])[-1] == ",".join(GUIDE)
