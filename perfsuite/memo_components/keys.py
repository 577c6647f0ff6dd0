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


_models: dict[type, tuple[str, str | None, str]] = {}


def _model(value: Model) -> tuple[Any, ...]:
    cls = type(value)
    known = _models.get(cls)
    if known is None:
        meta = cls._meta
        known = _models[cls] = (meta.label_lower, version_field(cls), meta.pk.attname)
    label, field, pk_name = known
    version = getattr(value, field) if field else None
    if version is not None and type(version) not in _PLAIN:
        version = encode(version)
    pk = getattr(value, pk_name)
    return ("m", label, pk if type(pk) in _PLAIN else encode(pk), version)


def _mapping(value: Mapping[Any, Any]) -> tuple[Any, ...]:
    items = sorted(((encode(k), encode(v)) for k, v in value.items()), key=lambda kv: repr(kv[0]))
    return ("o", tuple(items))


def _sorted(value: Any) -> tuple[Any, ...]:
    return ("S", tuple(sorted((encode(x) for x in value), key=repr)))


#: pks and versions of these types stand for themselves inside a model's tuple
_PLAIN = (int, str, datetime.datetime, uuid.UUID)

_ENCODERS: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: None,
    bool: lambda v: ("b", v),
    int: lambda v: ("i", v),
    str: lambda v: ("s", v),
    float: lambda v: ("f", repr(v)),
    decimal.Decimal: lambda v: ("d", str(v)),
    datetime.datetime: lambda v: ("t", v.isoformat()),
    datetime.date: lambda v: ("D", v.isoformat()),
    datetime.time: lambda v: ("T", v.isoformat()),
    uuid.UUID: lambda v: ("u", str(v)),
    bytes: lambda v: ("B", v.hex()),
    list: lambda v: ("l", tuple(encode(x) for x in v)),
    tuple: lambda v: ("l", tuple(encode(x) for x in v)),
    dict: _mapping,
    set: _sorted,
    frozenset: _sorted,
}


def encode(value: Any) -> Any:
    """``value`` as hashable data that tells its type; ``TypeError`` when unknown."""
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, Model):
        return _model(value)
    custom = getattr(value, "__memo_key__", None)
    if custom is not None:
        return ("c", f"{type(value).__module__}.{type(value).__qualname__}", encode(custom()))
    if isinstance(value, Mapping):
        return _mapping(value)
    for kind, encoder in _ENCODERS.items():  # subclasses: str enums, OrderedDict ...
        if kind is not type(None) and isinstance(value, kind):
            return encoder(value)
    raise TypeError(
        f"cannot make a memo key from a {type(value).__name__}: pass plain values or model "
        "instances, or give the type a __memo_key__() method"
    )


_TAGS = {str: "s", int: "i", bool: "b"}


def local_key(identity: str, props: Mapping[str, Any]) -> tuple[Any, ...]:
    """The key of one render in this process's LRU: ``identity`` (class and template)
    and each prop's typed form, in the component's declared order (props made by
    ``check_props`` always are). Compared by equality, so a hash collision is harmless."""
    key: list[Any] = [identity]
    for value in props.values():
        tag = _TAGS.get(type(value))  # the commonest props, without a call
        key.append((tag, value) if tag is not None else encode(value))
    return tuple(key)


def stable_hash(key: tuple[Any, ...]) -> str:
    """The same key as a hash every process computes alike (the shared alias's)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


def memo_key(identity: str, props: Mapping[str, Any]) -> str:
    """The stable key of one render from props in any order (names included)."""
    ordered = dict(sorted(props.items()))
    return stable_hash((tuple(ordered), *local_key(identity, ordered)))


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
