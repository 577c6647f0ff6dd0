"""Route every ORM call to the alias a test chose (``db_alias`` fixture)."""

from __future__ import annotations

from typing import Any

ACTIVE = {"alias": "default"}


class ActiveAliasRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return ACTIVE["alias"]

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return ACTIVE["alias"]

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return True
