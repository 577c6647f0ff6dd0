"""MemoryManager: the guide's keys against psutil, tracking, and the cleanup."""

from __future__ import annotations

import gc
import platform
import threading
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from django.test import override_settings

from perfsuite.core import caches, metrics
from perfsuite.memory import cleanup, manager
from perfsuite.memory.manager import MemoryManager, memory_manager
from perfsuite.memory.usage import MB
from tests.memory.conftest import counter, perfsuite

GUIDE_KEYS = {"rss_mb", "vms_mb", "percent", "tracked_objects"}
ADDED_KEYS = {"uss_mb", "allocated_blocks", "container_limit_mb", "container_usage_mb"}
RESULT_KEYS = {"objects_collected", "memory_before_mb", "memory_after_mb", "freed_mb"}
RESULT_KEYS |= {"caches", "trimmed", "duration_ms", "reason", "skipped"}


class Shrinkable:
    """A clearable cache of 10 entries that records what it was asked."""

    def __init__(self, events: list[str] | None = None) -> None:
        self.entries = dict.fromkeys(range(10), b"x")
        self.calls: list[float] = []
        self.events = events if events is not None else []

    def shrink(self, keep: float) -> int:
        self.calls.append(keep)
        self.events.append("shrink")
        return caches.shrink_mapping(self.entries, keep)


@pytest.fixture
def registered() -> Iterator[Shrinkable]:
    cache = Shrinkable()
    caches.register("test.memory", size=lambda: (len(cache.entries), 0), shrink=cache.shrink)
    yield cache
    caches.unregister("test.memory")


@pytest.fixture
def trim_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def fake_trim(pad: int) -> int:
        calls.append(pad)
        return 1

    monkeypatch.setattr(cleanup, "_malloc_trim", fake_trim)
    return calls


def test_the_guides_keys_against_psutils_own_reading() -> None:
    process = psutil.Process()
    usage = MemoryManager().get_memory_usage()
    info = process.memory_info()
    assert set(usage) == GUIDE_KEYS | ADDED_KEYS
    tolerance = max(0.05 * info.rss / MB, 8.0)  # MB: the process may allocate in between
    assert abs(usage["rss_mb"] - info.rss / MB) < tolerance
    assert abs(usage["vms_mb"] - info.vms / MB) < max(0.05 * info.vms / MB, 8.0)
    assert usage["uss_mb"] is None or 0 < usage["uss_mb"] <= usage["rss_mb"] + tolerance
    assert isinstance(usage["allocated_blocks"], int) and usage["allocated_blocks"] > 1000
    assert usage["tracked_objects"] == 0
    if usage["container_limit_mb"] is None:
        assert abs(usage["percent"] - process.memory_percent()) < 0.5
    else:
        limit = usage["container_limit_mb"]
        assert usage["percent"] == pytest.approx(usage["rss_mb"] / limit * 100)


def test_uss_is_none_when_psutil_is_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: Any) -> Any:
        raise psutil.AccessDenied(0)

    monkeypatch.setattr(psutil.Process, "memory_full_info", denied)
    usage = MemoryManager().get_memory_usage()
    assert usage["uss_mb"] is None and usage["rss_mb"] > 0


def test_tracked_objects_are_weak() -> None:
    class Session:
        pass

    mm = MemoryManager()
    kept, dropped = Session(), Session()
    mm.track_object(kept)
    mm.track_object(dropped)
    assert mm.get_memory_usage()["tracked_objects"] == 2
    del dropped
    gc.collect()
    assert mm.get_memory_usage()["tracked_objects"] == 1 and kept in mm.tracked_objects


def test_a_dict_cannot_be_tracked_and_the_error_says_why() -> None:
    with pytest.raises(TypeError) as caught:
        MemoryManager().track_object({"a": 1})
    message = str(caught.value)
    assert "'dict'" in message and "cannot be weakly referenced" in message
    assert "Wrap it" in message


def test_should_cleanup_over_the_mb_threshold_or_the_percent() -> None:
    assert MemoryManager(max_memory_mb=1).should_cleanup()
    assert not MemoryManager(max_memory_mb=10**7).should_cleanup()
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_MB=1)):
        assert MemoryManager().cleanup_reason() == "threshold_mb"
    # no MB threshold: the percent decides (of the container limit, else the RAM)
    assert MemoryManager().cleanup_reason() is None  # 80 % of this machine: no
    assert MemoryManager(threshold_percent=1e-6).cleanup_reason() == "threshold_percent"
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_PERCENT=1e-6)):
        assert memory_manager.should_cleanup()


def test_cleanup_order_gc_then_caches_then_malloc_trim(
    registered: Shrinkable, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = registered.events
    real_collect = gc.collect
    monkeypatch.setattr(cleanup.gc, "collect", lambda: events.append("gc") or real_collect())
    monkeypatch.setattr(cleanup, "_malloc_trim", lambda pad: events.append("trim") or 1)
    result = MemoryManager().cleanup_memory()
    assert events == ["gc", "shrink", "trim"]
    assert result["skipped"] is None and result["reason"] == "manual"


def test_cleanup_shrinks_every_registered_cache_to_the_keep_fraction(
    registered: Shrinkable, trim_calls: list[int]
) -> None:
    result = MemoryManager(cooldown=0).cleanup_memory()
    assert registered.calls == [0.5]
    assert result["caches"]["test.memory"] == 5 and len(registered.entries) == 5
    assert {"cache.key_memo", "cache.hosts"} <= set(result["caches"])  # the other apps'
    with override_settings(PERFSUITE=perfsuite(CACHE_KEEP=0.2)):
        result = MemoryManager().cleanup_memory()
    assert registered.calls == [0.5, 0.2] and result["caches"]["test.memory"] == 4
    assert set(result) == RESULT_KEYS
    assert result["freed_mb"] == pytest.approx(
        result["memory_before_mb"] - result["memory_after_mb"]
    )
    assert result["duration_ms"] >= 0 and result["objects_collected"] >= 0


def test_a_failing_cache_does_not_stop_the_others(
    registered: Shrinkable, trim_calls: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(keep: float) -> int:
        raise RuntimeError("boom")

    caches.register("test.broken", size=lambda: (1, 0), shrink=broken)
    try:
        result = MemoryManager().cleanup_memory()
    finally:
        caches.unregister("test.broken")
    assert result["caches"]["test.broken"] == 0 and result["caches"]["test.memory"] == 5
    assert result["trimmed"] and "test.broken" in caplog.text


def test_malloc_trim_is_called_with_zero(trim_calls: list[int]) -> None:
    assert MemoryManager().cleanup_memory()["trimmed"] is True
    assert trim_calls == [0]


def test_no_malloc_trim_on_a_c_library_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cleanup, "_malloc_trim", None)  # musl, macOS
    result = MemoryManager().cleanup_memory()
    assert result["trimmed"] is False and result["skipped"] is None


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_on_glibc_malloc_trim_is_found_once() -> None:
    function = cleanup.malloc_trim_function()
    assert function is not None and cleanup.malloc_trim_function() is function
    assert cleanup.trim() is True


def test_a_cleanup_within_the_cooldown_is_skipped(
    monkeypatch: pytest.MonkeyPatch, trim_calls: list[int]
) -> None:
    now = [1000.0]
    monkeypatch.setattr(manager, "_monotonic", lambda: now[0])
    collections: list[int] = []
    real_collect = gc.collect
    monkeypatch.setattr(cleanup.gc, "collect", lambda: collections.append(1) or real_collect())
    mm = MemoryManager()  # MEMORY_CLEANUP_COOLDOWN: 60 s
    assert mm.cleanup_memory()["skipped"] is None
    now[0] += 59
    skipped = mm.cleanup_memory(reason="threshold_mb")
    assert skipped["skipped"] == "cooldown" and skipped["objects_collected"] == 0
    assert skipped["memory_after_mb"] is None and skipped["caches"] == {}
    assert len(collections) == 1 and trim_calls == [0]  # nothing was done
    now[0] += 2
    assert mm.cleanup_memory()["skipped"] is None and len(collections) == 2
    assert counter("perfsuite_memory_cleanups", reason="manual") == 2
    assert counter("perfsuite_memory_cleanups_skipped", reason="cooldown") == 1
    # (a changed PERFSUITE drops the metrics store: counted above, before it changes)
    with override_settings(PERFSUITE=perfsuite(CLEANUP_COOLDOWN=0)):
        assert mm.cleanup_memory()["skipped"] is None


def test_a_second_concurrent_cleanup_skips_rather_than_waits(
    trim_calls: list[int],
) -> None:
    mm = MemoryManager(cooldown=0)
    inner: list[dict[str, Any]] = []

    def shrink(keep: float) -> int:
        # while the first cleanup runs (and holds the lock), another thread tries one
        thread = threading.Thread(target=lambda: inner.append(mm.cleanup_memory()))
        thread.start()
        thread.join()  # it returns at once: had it waited for the lock, this would hang
        return 0

    caches.register("test.concurrent", size=lambda: (0, 0), shrink=shrink)
    try:
        outer = mm.cleanup_memory()
    finally:
        caches.unregister("test.concurrent")
    assert outer["skipped"] is None and inner[0]["skipped"] == "busy"
    assert counter("perfsuite_memory_cleanups_skipped", reason="busy") == 1


def test_a_cleanup_records_its_metrics(trim_calls: list[int]) -> None:
    result = MemoryManager().cleanup_memory(reason="threshold_percent")
    snap = metrics.registry.snapshot("all")
    assert snap.counter_total("perfsuite_memory_cleanups", reason="threshold_percent") == 1
    freed = snap.counter_total("perfsuite_memory_freed_bytes")
    assert freed == max(round((result["freed_mb"]) * MB), 0)
    (last,) = snap.gauge_values("perfsuite_memory_last_cleanup_time")
    assert last > 1.7e9
    (rss,) = snap.gauge_values("perfsuite_memory_rss_bytes")
    assert rss == result["memory_after_mb"] * MB
    assert snap.gauge_values("perfsuite_memory_last_cleanup_freed_bytes") == [freed]


def test_the_package_exports_the_guides_global() -> None:
    import perfsuite.memory as app

    assert app.memory_manager is memory_manager and app.MemoryManager is MemoryManager
