"""The clearable-cache registry: the memory app's only way into other apps' caches."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import pytest

from perfsuite.core import caches


@pytest.fixture
def lru() -> Iterator[OrderedDict[str, bytes]]:
    memo: OrderedDict[str, bytes] = OrderedDict((f"k{n}", b"x" * 100) for n in range(10))
    caches.register(
        "test.lru",
        size=lambda: caches.mapping_size(memo),
        shrink=lambda keep: caches.shrink_mapping(memo, keep),
    )
    yield memo
    caches.unregister("test.lru")


def test_shrinking_keeps_the_most_recent_part(lru: OrderedDict[str, bytes]) -> None:
    lru.move_to_end("k0")  # used again: the most recent now
    entries, size = caches.sizes()["test.lru"]
    assert entries == 10 and size > 1000
    removed = caches.shrink_all(0.5)
    assert removed["test.lru"] == 5
    assert list(lru) == ["k6", "k7", "k8", "k9", "k0"]
    assert caches.shrink_all(0)["test.lru"] == 5
    assert not lru


def test_a_bad_fraction_is_refused(lru: OrderedDict[str, bytes]) -> None:
    with pytest.raises(ValueError):
        caches.shrink_all(1.5)


def test_the_response_cache_registers_its_memos() -> None:
    names = {cache.name for cache in caches.registered()}
    assert {"cache.known_tags", "cache.hosts", "cache.key_memo"} <= names


def test_a_failing_cache_does_not_stop_the_others(
    lru: OrderedDict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(keep: float) -> int:
        raise RuntimeError("cannot shrink")

    caches.register("test.broken", size=lambda: (1, 0), shrink=broken)
    try:
        removed = caches.shrink_all(0.5)
    finally:
        caches.unregister("test.broken")
    assert removed == {**removed, "test.broken": 0, "test.lru": 5}
    assert len(lru) == 5 and "test.broken" in caplog.text
