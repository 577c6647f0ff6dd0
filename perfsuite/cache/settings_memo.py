"""Django settings the request path reads, memoised (reset on ``setting_changed``).

``settings.X`` goes through ``LazySettings.__getattribute__`` on every read; the
cache reads a few names on every request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_memo: dict[str, Any] = {}


def setting(name: str) -> Any:
    try:
        return _memo[name]
    except KeyError:
        value = _memo[name] = getattr(settings, name)
        return value


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    _memo.pop(setting, None)
