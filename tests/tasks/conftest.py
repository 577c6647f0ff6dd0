"""Fixtures of the task tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perfsuite.tasks import processor


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What would reach the broker (nothing, for refused data)."""
    published: list[Any] = []
    monkeypatch.setattr(processor, "publish", lambda *args: published.append(args))
    return published


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
