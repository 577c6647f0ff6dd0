"""The signed token a lazy placeholder carries: which component, its props, for whom.

    token = sign("chart", {"data": [3, 1, 4]}, user_key="42")
    name, props = unsign("chart", token, user_key="42")     # BadToken when anything is off

The payload is JSON (``{"c": name, "p": props, "u": user}``), compressed and signed
with ``django.core.signing`` (``SECRET_KEY``, and ``SECRET_KEY_FALLBACKS`` while keys
rotate) under a salt of this app and the component's name, with a timestamp:
``LAZY_MAX_AGE`` seconds later it is refused. A token is bound to the signed-in user
it was rendered for (``None``: anonymous), so a leaked URL does not show one user's
props to another. Props must be JSON values (``str``, numbers, ``bool``, ``None``,
lists, dicts with ``str`` keys; tuples arrive as lists): anything else is a
``TypeError`` naming the prop, at render time. Pass ids, not model instances.
"""

from __future__ import annotations

import json
from typing import Any

from django.core import signing

from perfsuite.core.conf import perf_settings

SALT = "perfsuite.memo_components.lazy:"


class BadToken(Exception):
    """A token that is forged, tampered with, expired, too long or for someone else."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PropsTooLarge(ValueError):
    pass


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__module__}.{type(value).__qualname__} is not a JSON value")


class PropsSerializer:
    """``json`` without ``default`` conversions: a model instance or a date is refused
    instead of arriving at the component as something else."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), default=_refuse).encode("latin-1")

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode("latin-1"))


def check_json(name: str, props: dict[str, Any]) -> None:
    """``TypeError`` naming the first prop that is not a JSON value."""
    for key, value in props.items():
        try:
            json.dumps(value, default=_refuse)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"lazy component {name!r}: prop {key!r} cannot travel signed to the browser "
                f"({exc}); pass JSON values (ids, strings, numbers, lists, dicts)"
            ) from None


def sign(name: str, props: dict[str, Any], user_key: str | None = None) -> str:
    """The URL-safe token of ``props`` for component ``name`` (and the user it is for)."""
    check_json(name, props)
    payload = {"c": name, "p": props, "u": user_key}
    token = signing.dumps(payload, salt=SALT + name, serializer=PropsSerializer, compress=True)
    limit = perf_settings.LAZY_MAX_TOKEN_LENGTH
    if len(token) > limit:
        raise PropsTooLarge(
            f"lazy component {name!r}: the signed props take {len(token)} characters, more "
            f"than LAZY_MAX_TOKEN_LENGTH ({limit}); pass ids and let the component look "
            "the data up"
        )
    return token


def unsign(name: str, token: str, user_key: str | None = None) -> dict[str, Any]:
    """The props signed for ``name`` and ``user_key``; :class:`BadToken` otherwise."""
    if not token:
        raise BadToken("No token.")
    if len(token) > perf_settings.LAZY_MAX_TOKEN_LENGTH:
        raise BadToken("The token is too long.")
    try:
        payload = signing.loads(
            token,
            salt=SALT + name,
            serializer=PropsSerializer,
            max_age=perf_settings.LAZY_MAX_AGE,
        )
    except signing.SignatureExpired:
        raise BadToken("This content has expired: reload the page.", status=410) from None
    except (signing.BadSignature, ValueError, UnicodeError):
        # BadSignature; or a well-signed token whose payload does not decode (never
        # produced by sign(): a leaked SECRET_KEY is the only way)
        raise BadToken("The token is not valid.") from None
    if not isinstance(payload, dict) or payload.get("c") != name:
        raise BadToken("The token is not valid.")
    props = payload.get("p")
    if not isinstance(props, dict):
        raise BadToken("The token is not valid.")
    if payload.get("u") != user_key:
        raise BadToken("This content was rendered for another user: reload the page.", 403)
    return props
