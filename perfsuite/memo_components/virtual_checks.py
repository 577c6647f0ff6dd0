"""System checks of virtual lists (ids 210-219; listed in ``checks.CHECKS``).

W211 and W212 look at the sources registered by the time checks run (those of a
``components.py`` or of a module the URLconf imports: the URLconf is imported first).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model
from django.urls import NoReverseMatch, reverse

from perfsuite.core.checks import registered_by_installed_app

from .virtual_keyset import order_of
from .virtual_sources import registered_sources


def _routed() -> bool | None:
    """Whether the window endpoint has a URL (None: the URLconf does not import)."""
    try:
        reverse("perfsuite_components:virtual-window", args=["x"])
    except NoReverseMatch:
        return False
    except Exception:  # Django's own URL checks report a broken URLconf
        return None
    return True


def check_urls(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W210: virtual list sources are registered but the window endpoint has no URL."""
    if _routed() is not False:
        return []
    names = sorted(
        n for n, s in registered_sources().items() if registered_by_installed_app(s.module)
    )
    if not names:
        return []
    return [
        Warning(
            f"virtual list sources are registered ({', '.join(names[:5])}) but the URLs of "
            "perfsuite.memo_components are not included: {% virtual_list %} cannot fetch "
            "windows and shows pagination links only.",
            hint='Add path("components/", include("perfsuite.memo_components.urls")) to '
            "your ROOT_URLCONF.",
            id="perfsuite.W210",
        )
    ]


def _field(model: type[Model], name: str) -> Field[Any, Any] | None:
    if "__" in name:
        return None  # a related field: not looked into
    try:
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, Field) else None


def _indexed(model: type[Model], field: Field[Any, Any]) -> bool:
    if field.primary_key or field.unique or getattr(field, "db_index", False):
        return True
    names = {field.name, field.attname}
    leading = [index.fields[0].lstrip("-") for index in model._meta.indexes if index.fields]
    leading += [getattr(c, "fields", ("",))[0] for c in model._meta.constraints]
    leading += [fields[0] for fields in model._meta.unique_together if fields]
    return bool(names & set(leading))


def check_orderings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W211: a QuerySet source orders by a nullable field; W212: its first ordering
    field has no index (deep windows then scan the table)."""
    _routed()  # imports the URLconf, and the sources its modules register
    found: list[CheckMessage] = []
    for name, source in sorted(registered_sources().items()):
        queryset = source.queryset()
        if queryset is None:
            continue
        try:
            order = order_of(queryset, source.order)
        except TypeError:
            continue
        model = queryset.model
        fields = [_field(model, part.lstrip("-")) for part in order]
        nullable = [f.name for f in fields if f is not None and f.null]
        if nullable:
            found.append(
                Warning(
                    f"the virtual list source {name!r} orders by {nullable[0]!r}, which can be "
                    "NULL: a keyset condition never matches NULL, so such rows are skipped "
                    "past the first window.",
                    hint="Order by non-null fields (register_source(..., order=(...)), or "
                    "filter the NULLs out.",
                    id="perfsuite.W211",
                )
            )
        if fields[0] is not None and not _indexed(model, fields[0]):
            found.append(
                Warning(
                    f"the virtual list source {name!r} orders first by {fields[0].name!r}, "
                    "which has no index: every window deep in the list scans the table.",
                    hint=f"Add db_index=True (or an index starting with {fields[0].name!r}) "
                    "to the field, or order by an indexed field.",
                    id="perfsuite.W212",
                )
            )
    return found


VIRTUAL_CHECKS: tuple[Any, ...] = (check_urls, check_orderings)
