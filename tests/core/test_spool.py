"""The crash journal: a process killed with SIGKILL loses nothing it recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfsuite.core.metrics import Registry
from perfsuite.core.sketch import Mapping
from perfsuite.core.stores.redis import RedisStore
from tests.helpers import ROOT

pytestmark = pytest.mark.redis

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    django.setup()
    from perfsuite.core.metrics import Registry
    from perfsuite.core.sketch import Mapping
    from perfsuite.core.stores.redis import RedisStore

    class Dying(Registry):
        def _batch_applied(self, batch):
            if {die_after_send!r}:
                os.kill(os.getpid(), signal.SIGKILL)  # sent, but never marked as applied
            super()._batch_applied(batch)

    store = RedisStore(Mapping(0.01), {url!r}, prefix="t", socket_timeout=0.5)
    registry = Dying(store=store, autoflush=False, spool_dir={spool!r})
    hits = registry.counter("killed_hits", "", ("route",))
    latency = registry.histogram("killed_latency")
    for i in range(1000):
        hits.labels("a").inc()
        latency.observe(0.001 * (1 + i % 50))
    registry.flush()
    for i in range(500):
        hits.labels("b").inc(2)
        latency.observe(0.2)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def run_and_kill(url: str, spool: Path, *, die_after_send: bool = False) -> None:
    code = CHILD.format(root=str(ROOT), url=url, spool=str(spool), die_after_send=die_after_send)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)
    assert result.returncode == -9, "the child was to die by SIGKILL"


def survivor(url: str, spool: Path) -> Registry:
    store = RedisStore(Mapping(0.01), url, prefix="t", socket_timeout=0.5)
    registry = Registry(store=store, autoflush=False, spool_dir=str(spool))
    registry.counter("survivor_alive").inc()  # its own journal opens with its first record
    return registry


def totals(registry: Registry) -> tuple[float, float, int]:
    snap = registry.snapshot("all")
    hist = snap.histogram("killed_latency")
    return (
        snap.counter_total("killed_hits", route="a"),
        snap.counter_total("killed_hits", route="b"),
        hist.count,
    )


def test_a_killed_process_deltas_are_recovered_exactly(redis_url: str, tmp_path: Path) -> None:
    run_and_kill(redis_url, tmp_path)
    registry = survivor(redis_url, tmp_path)
    assert totals(registry) == (1000, 0, 1000), "only the flushed part before recovery"
    assert registry.recover_spools() == 1000  # 500 increments and 500 observations
    assert totals(registry) == (1000, 1000, 1500)
    hist = registry.snapshot("all").histogram("killed_latency")
    assert hist.max == pytest.approx(0.2)
    assert registry.snapshot("all").counter_total("perfsuite_recovered_observations") == 1000
    assert registry._spool is not None
    left = {p.name for p in tmp_path.iterdir()}
    mine = Path(registry._spool.path).name
    assert left == {mine, mine + ".series"}, "the dead process's journal is removed"
    assert registry.recover_spools() == 0, "a journal is recovered once"


def test_a_batch_sent_just_before_the_kill_is_not_counted_twice(
    redis_url: str, tmp_path: Path
) -> None:
    run_and_kill(redis_url, tmp_path, die_after_send=True)
    registry = survivor(redis_url, tmp_path)
    assert totals(registry) == (1000, 0, 1000)  # the batch reached Redis...
    registry.recover_spools()  # ...and the journal still says "in flight"
    assert totals(registry) == (1000, 0, 1000)


def test_live_processes_journals_are_left_alone(redis_url: str, tmp_path: Path) -> None:
    first = survivor(redis_url, tmp_path)
    first.counter("mine").inc(5)
    second = survivor(redis_url, tmp_path)
    assert second.recover_spools() == 0
    assert first._spool is not None and os.path.exists(first._spool.path)
    first.close()
    assert not os.path.exists(first._spool.path if first._spool else "gone"), "removed at exit"
    assert second.snapshot("all").counter_total("mine") == 5


def test_the_journal_costs_little_and_is_off_for_the_local_store() -> None:
    registry = Registry(autoflush=False)
    registry.counter("local_only").inc()
    assert registry._spool is None
