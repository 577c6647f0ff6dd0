from __future__ import annotations

import asyncio
import threading
import time

from perfsuite.core import timing


def test_outside_a_request_nothing_is_recorded() -> None:
    timing.add("db", 0.5)
    with timing.timed("render"):
        pass
    assert timing.current() is None


def test_entries_collected_in_order_and_summed() -> None:
    token = timing.begin()
    try:
        timing.add("db", 0.010, "orders")
        with timing.timed("render", "template"):
            time.sleep(0.002)
        timing.add("db", 0.005)
        current = timing.current()
        assert current is not None
        assert [e.name for e in current.entries] == ["db", "render", "db"]
        assert current.entries[1].duration >= 0.002
        assert current.entries[0].description == "orders"
        assert current.totals()["db"] == 0.015
    finally:
        timing.end(token)
    assert timing.current() is None


def test_threads_do_not_see_each_others_requests() -> None:
    seen: dict[str, list[str]] = {}

    def request(name: str) -> None:
        token = timing.begin()
        timing.add(name, 0.001)
        time.sleep(0.01)
        timing.add(name, 0.001)
        current = timing.current()
        assert current is not None
        seen[name] = [e.name for e in current.entries]
        timing.end(token)

    threads = [threading.Thread(target=request, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {f"t{i}": [f"t{i}", f"t{i}"] for i in range(8)}


def test_asyncio_requests_are_isolated_and_child_tasks_share_their_request() -> None:
    async def request(name: str) -> list[str]:
        token = timing.begin()
        try:

            async def child() -> None:
                await asyncio.sleep(0)
                timing.add(f"{name}-child", 0.001)

            await asyncio.gather(child(), child())
            timing.add(name, 0.001)
            current = timing.current()
            assert current is not None
            return [e.name for e in current.entries]
        finally:
            timing.end(token)

    async def main() -> list[list[str]]:
        return await asyncio.gather(request("a"), request("b"))

    a, b = asyncio.run(main())
    assert a == ["a-child", "a-child", "a"]
    assert b == ["b-child", "b-child", "b"]
