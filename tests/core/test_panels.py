from __future__ import annotations

from collections.abc import Iterator

import pytest

from perfsuite.core import panels


class Demo(panels.Panel):
    def get_stats(self, snapshot):  # type: ignore[no-untyped-def]
        return {"n": 1}


def make(panel_id: str, title: str, order: int) -> panels.Panel:
    cls = type(f"P_{panel_id}", (Demo,), {"id": panel_id, "title": title, "order": order})
    return cls()


@pytest.fixture
def clean() -> Iterator[None]:
    saved = dict(panels._panels)
    panels._panels.clear()
    yield
    panels._panels.clear()
    panels._panels.update(saved)


def test_panels_are_listed_in_a_stable_order(clean: None) -> None:
    panels.register(make("zeta", "Zeta", 10))
    panels.register(make("alpha", "Alpha", 50))
    panels.register(make("beta", "Alpha", 50))
    panels.register(make("first", "Z first", 1))
    assert [p.id for p in panels.get_panels()] == ["first", "zeta", "alpha", "beta"]


def test_registering_again_replaces_by_id(clean: None) -> None:
    panels.register(make("cache", "Old", 1))
    newer = panels.register(make("cache", "New", 1))
    assert panels.get_panels() == [newer]
    panels.unregister("cache")
    assert panels.get_panels() == []


def test_a_panel_needs_an_id(clean: None) -> None:
    with pytest.raises(ValueError, match="needs an id"):
        panels.register(Demo())
