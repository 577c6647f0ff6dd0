"""``CreateSearchIndexes``: the GIN indexes ``OptimizedQuerySet.search`` uses on
PostgreSQL, as a migration operation for a model you may not own (``auth.User``)::

    from perfsuite.query_opt.operations import CreateSearchIndexes

    class Migration(migrations.Migration):
        dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
        operations = [CreateSearchIndexes(settings.AUTH_USER_MODEL)]

It installs ``pg_trgm`` when it can (PostgreSQL 13+ lets a database owner do it)
and creates a full-text index on the name fields and a trigram index on the
username. On other databases it does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.db import transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Index

from .search import name_vector

logger = logging.getLogger("perfsuite.query_opt")

NAME_FIELDS = ("username", "first_name", "last_name")


class CreateSearchIndexes(Operation):
    reversible = True
    reduces_to_sql = False

    def __init__(
        self,
        model: str,
        fields: tuple[str, ...] | list[str] = NAME_FIELDS,
        trigram_field: str | None = "username",
    ) -> None:
        self.model = model
        self.fields = tuple(fields)
        self.trigram_field = trigram_field

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"model": self.model}
        if self.fields != NAME_FIELDS:
            kwargs["fields"] = list(self.fields)
        if self.trigram_field != "username":
            kwargs["trigram_field"] = self.trigram_field
        return (f"{__name__}.{type(self).__name__}", [], kwargs)

    def describe(self) -> str:
        return f"Create the search indexes of {self.model} (PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model.replace('.', '_').lower()}_search_indexes"

    def state_forwards(self, app_label: str, state: Any) -> None:
        """Indexes only: the model's state does not change."""

    def indexes(self, table: str, trigram: bool) -> list[Index]:
        stem = table[:14]
        found: list[Index] = [GinIndex(name_vector(self.fields), name=f"{stem}_name_fts")]
        if trigram and self.trigram_field:
            found.append(
                GinIndex(
                    fields=[self.trigram_field],
                    opclasses=["gin_trgm_ops"],
                    name=f"{stem}_name_trgm",
                )
            )
        return found

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(self.model)
        trigram = _install_trigram(schema_editor)
        for index in self.indexes(model._meta.db_table, trigram):
            schema_editor.add_index(model, index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = from_state.apps.get_model(self.model)
        for index in self.indexes(model._meta.db_table, True):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index.name)}")


def _install_trigram(schema_editor: Any) -> bool:
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # no privilege, or the contrib package is missing
        logger.warning(
            "pg_trgm is not available (%s): search finds misspelt names only after it is installed",
            exc,
        )
        return False
    return True
