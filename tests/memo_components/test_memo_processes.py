"""Memoized renders across processes sharing Redis (the demo's settings with
``REDIS_URL``: ``COMPONENT_CACHE_ALIAS = "default"``) on PostgreSQL: a save or a delete
in one process drops the renders of the others, and a process never reaches a shared
render made before the save; renders made by one process are hits in another."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, seeded_demo

pytestmark = [pytest.mark.slow, pytest.mark.redis]

SCRIPT = """
import sys
from perfsuite.memo_components.components import Prop
from perfsuite.memo_components.lru import renders
from perfsuite.memo_components.memo import MemoizedComponent
from project.shop.models import Post


class PostTitle(MemoizedComponent):  # Post has no updated_at: only invalidation helps
    name = "x_post_title"
    template = "<b>{{ post.title }}</b>"
    declared_props = {"post": Prop(Post)}


for line in sys.stdin:
    command, _, arg = line.split()[0], None, line.split()[1:]
    if command == "pks":
        print(*Post.objects.order_by("pk").values_list("pk", flat=True)[:2], sep="|")
    elif command == "render":
        html = PostTitle(post=Post.objects.get(pk=int(arg[0]))).render()
        stats = PostTitle.get_cache_stats()
        print(html, stats["misses"], stats["shared_hits"], stats["cache_size"], sep="|")
    elif command == "save":
        post = Post.objects.get(pk=int(arg[0]))
        post.title = arg[1]
        post.save()
        print("saved")
    elif command == "delete":
        Post.objects.filter(pk=int(arg[0])).delete()
        print("deleted")
    elif command == "forget":
        renders.clear()
        print("forgot")
    sys.stdout.flush()
"""


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", SCRIPT],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, *words: object) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(" ".join(map(str, words)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read() if self.proc.stderr else "no answer"
        return line.rstrip("\n").split("|")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def workers(demo_database: str, redis_url: str, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    env = seeded_demo(str(tmp_path), DATABASE_URL=demo_database, REDIS_URL=redis_url)
    one, two = Worker(env), Worker(env)
    try:
        yield one, two
    finally:
        one.close()
        two.close()


def test_a_save_in_one_process_drops_the_renders_of_another(
    workers: tuple[Worker, Worker],
) -> None:
    one, two = workers
    first, second = one.ask("pks")
    title = one.ask("render", first)[0]
    assert one.ask("render", first) == [title, "1", "0", "1"], "a hit in its own LRU"
    assert two.ask("render", first) == [title, "0", "1", "1"], "a hit in the shared alias"
    one.ask("render", second)

    assert two.ask("save", first, "renamed") == ["saved"]
    time.sleep(0.8)  # COMPONENT_SYNC_INTERVAL is 0.5 s
    assert one.ask("render", first)[0] == "<b>renamed</b>", "dropped from the LRU"
    # a process whose LRU is empty never reaches the render made before the save
    assert two.ask("forget") == ["forgot"]
    assert two.ask("render", first)[:3] == ["<b>renamed</b>", "0", "2"], "shared, new"

    before = int(one.ask("render", second)[3])
    assert two.ask("delete", second) == ["deleted"]
    time.sleep(0.8)
    after = one.ask("render", first)  # a render syncs the log first
    assert int(after[3]) == before - 1, "the deleted post's render is dropped"
