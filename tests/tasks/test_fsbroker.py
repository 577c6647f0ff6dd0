"""The embedded broker (``perfsuite.tasks.fsbroker``) through kombu's own API: a
received message stays claimed until it is acknowledged, a reject puts it back, and
the claims of a process that died go back to the queue in their first place."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from perfsuite.tasks import owners

TRANSPORT = "perfsuite.tasks.fsbroker:Transport"


#: kombu keeps declared exchanges per process: one queue name per test and folder
NAME = f"jobs{uuid.uuid4().hex[:8]}"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    global NAME
    NAME = f"jobs{uuid.uuid4().hex[:8]}"
    (tmp_path / "control").mkdir()
    yield tmp_path


def connect(folder: Path) -> Any:
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
    }
    return Connection("filesystem://", transport=TRANSPORT, transport_options=options)


@pytest.fixture
def queue(folder: Path) -> Iterator[Any]:
    with connect(folder) as conn:
        simple = conn.SimpleQueue(NAME)
        yield simple
        simple.close()


def waiting(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(f"*.{NAME}.msg"))


def claimed(folder: Path) -> list[Path]:
    return sorted(folder.glob(".claimed/*/*.msg"))


def test_a_received_message_is_kept_until_acknowledged(folder: Path, queue: Any) -> None:
    queue.put({"n": 1})
    time.sleep(0.003)  # kombu orders files by their millisecond (then at random)
    queue.put({"n": 2})
    first = queue.get(timeout=2)
    assert first.payload == {"n": 1}
    assert len(waiting(folder)) == 1
    assert [p.parent.name for p in claimed(folder)] == [owners.me()]
    first.ack()
    assert claimed(folder) == []
    second = queue.get(timeout=2)
    second.reject(requeue=True)  # back in the queue, no claim left behind
    assert claimed(folder) == [] and len(waiting(folder)) == 1
    again = queue.get(timeout=2)
    assert again.payload == {"n": 2}
    again.ack()
    assert waiting(folder) == [] and claimed(folder) == []


def test_a_dead_process_claims_go_back_in_their_first_place(folder: Path) -> None:
    with connect(folder) as conn:
        simple = conn.SimpleQueue(NAME)
        for n in range(3):
            simple.put({"n": n})
            time.sleep(0.003)  # kombu orders files by their millisecond (then at random)
        taken = simple.get(timeout=2)  # claimed by this process, never acknowledged
        assert taken.payload == {"n": 0}
        # that claim now belongs to a process of this host that has exited
        gone = subprocess.Popen(["true"])
        gone.wait()
        host, _pid, start = owners.me().rsplit("~", 2)
        mine = claimed(folder)[0].parent
        mine.rename(mine.with_name(f"{host}~{gone.pid}~{start}"))
        simple.channel._next_recovery = 0  # the next poll recovers (every 5 s by default)
        again = simple.get(timeout=2)
        assert again.payload == {"n": 0}, "first in the queue again"
        assert again.delivery_info.get("redelivered") is True
        again.ack()
        assert [simple.get(timeout=2).payload["n"] for _ in range(2)] == [1, 2]
        simple.close()
    assert claimed(folder) == []


def test_a_live_process_claims_stay_claimed(folder: Path) -> None:
    with connect(folder) as conn:
        simple = conn.SimpleQueue(NAME)
        simple.put({"n": 0})
        simple.get(timeout=2)
        host = owners.me().split("~")[0]
        mine = claimed(folder)[0].parent
        alive = subprocess.Popen(["sleep", "30"])
        try:
            alive_start = owners._start_of(alive.pid)
            mine.rename(mine.with_name(f"{host}~{alive.pid}~{alive_start}"))
            simple.channel._next_recovery = 0
            with pytest.raises(simple.Empty):
                simple.get(timeout=0.5)
            assert len(claimed(folder)) == 1
        finally:
            alive.kill()
            alive.wait()
        simple.close()
