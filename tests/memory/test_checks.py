"""Check W801: a MB threshold at or above the memory the process can ever have."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from perfsuite.memory import cgroups
from tests.memory.conftest import perfsuite


def w801() -> list[str]:
    return [m.msg for m in run_checks() if m.id == "perfsuite.W801"]


def test_no_warning_by_default_or_below_the_limit() -> None:
    assert w801() == []
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_MB=256)):
        assert w801() == []


def test_a_threshold_above_the_machines_memory() -> None:
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_MB=10**9)):
        (message,) = w801()
    assert "this machine's memory" in message
    found = [m for m in run_checks() if m.id == "perfsuite.W801"]
    assert found == []  # the setting is back to None


def test_a_threshold_at_the_containers_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = cgroups.ContainerMemory(512 * 1024 * 1024, 0, 2)
    monkeypatch.setattr(cgroups, "read", lambda *args: limit)
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_MB=512)):
        found = [m for m in run_checks() if m.id == "perfsuite.W801"]
    assert len(found) == 1 and found[0].hint
    assert "the container's memory limit (512 MB)" in found[0].msg
    with override_settings(PERFSUITE=perfsuite(THRESHOLD_MB=400)):
        assert w801() == []


def test_the_check_runs_only_while_the_app_is_installed() -> None:
    from django.conf import settings

    apps = [app for app in settings.INSTALLED_APPS if app != "perfsuite.memory"]
    with override_settings(INSTALLED_APPS=apps, PERFSUITE=perfsuite(THRESHOLD_MB=10**9)):
        assert w801() == []
