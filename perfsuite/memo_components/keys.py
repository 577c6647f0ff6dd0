"""Stable memo keys: a hash of the component class, its template and its props.

Each value is encoded with its type, so values that print alike never collide:
``None`` and ``"None"``, ``1``, ``"1"``, ``True`` and ``1.0``, two model instances with
the same ``str()``. Dicts are encoded in key order (insertion order does not matter),
sets sorted. A model instance contributes ``(app_label.model, pk)`` and its version:
the field named by the model's ``memo_version_field`` attribute, else ``updated_at``
or ``version`` when the model has one (saving or deleting an instance also drops its
renders: :mod:`.invalidation`). Anything else must provide
``__memo_key__()`` returning encodable values, or it is a ``TypeError``: a key from
``str()`` or ``repr()`` would collide.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Model

VERSION_FIELDS = ("updated_at", "version")

_version_attr: dict[type, str | None] = {}


def version_field(model: type[Model]) -> str | None:
    """The attribute that changes when an instance of ``model`` changes, if any."""
    try:
        return _version_attr[model]
    except KeyError:
        pass
    named = getattr(model, "memo_version_field", None)
    if named is None:
        fields = {f.attname for f in model._meta.concrete_fields}
        named = next((name for name in VERSION_FIELDS if name in fields), None)
    _version_attr[model] = named
    return named


def _model(value: Model) -> list[Any]:
    meta = value._meta
    label = meta.label_lower
    field = version_field(type(value))
    version = encode(getattr(value, field)) if field else None
    return ["m", label, encode(value.pk), version]


def _mapping(value: Mapping[Any, Any]) -> list[Any]:
    items = sorted(((encode(k), encode(v)) for k, v in value.items()), key=lambda kv: repr(kv[0]))
    return ["o", items]


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: None,
    bool: lambda v: ["b", v],
    int: lambda v: ["i", v],
    str: lambda v: ["s", v],
    float: lambda v: ["f", repr(v)],
    decimal.Decimal: lambda v: ["d", str(v)],
    datetime.datetime: lambda v: ["t", v.isoformat()],
    datetime.date: lambda v: ["D", v.isoformat()],
    datetime.time: lambda v: ["T", v.isoformat()],
    uuid.UUID: lambda v: ["u", str(v)],
    bytes: lambda v: ["B", v.hex()],
    list: lambda v: ["l", [encode(x) for x in v]],
    tuple: lambda v: ["l", [encode(x) for x in v]],
    dict: _mapping,
    set: lambda v: ["S", sorted((encode(x) for x in v), key=repr)],
    frozenset: lambda v: ["S", sorted((encode(x) for x in v), key=repr)],
}


def encode(value: Any) -> Any:
    """``value`` as JSON-able data that tells its type; ``TypeError`` when unknown."""
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, Model):
        return _model(value)
    custom = getattr(value, "__memo_key__", None)
    if custom is not None:
        return ["c", f"{type(value).__module__}.{type(value).__qualname__}", encode(custom())]
    if isinstance(value, Mapping):
        return _mapping(value)
    for kind, encoder in _ENCODERS.items():  # subclasses: str enums, OrderedDict ...
        if kind is not type(None) and isinstance(value, kind):
            return encoder(value)
    raise TypeError(
        f"cannot make a memo key from a {type(value).__name__}: pass plain values or model "
        "instances, or give the type a __memo_key__() method"
    )


def memo_key(identity: str, props: Mapping[str, Any]) -> str:
    """The key of one render: ``identity`` (class and template) and the props."""
    data = repr(["k", identity, _mapping(props)]).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def models_in(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, pk)`` of every model instance in the props (one level into lists and
    dicts): the renders to drop when one of them is saved or deleted."""
    found: list[tuple[str, str]] = []
    for value in props.values():
        items = value.values() if isinstance(value, Mapping) else value
        if isinstance(value, Model):
            items = (value,)
        elif not isinstance(value, list | tuple | set | frozenset | Mapping):
            continue
        for item in items:
            if isinstance(item, Model):
                found.append((item._meta.label_lower, str(item.pk)))
    return found
