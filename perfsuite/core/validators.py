"""Validators of ``PERFSUITE`` values, shared by every app's ``conf.py``.

A validator takes the user's value and returns None when it is fine, else the
end of a sentence that says what it must be ("must be a positive integer"):
system check ``perfsuite.E002`` prints it after the key, and at run time the
default is used instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

Validator = Callable[[Any], str | None]


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def positive_number(value: Any) -> str | None:
    if not _finite(value) or value <= 0:
        return "must be a positive, finite number"
    return None


def non_negative_number(value: Any) -> str | None:
    if not _finite(value) or value < 0:
        return "must be a finite number >= 0"
    return None


def positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return "must be a positive integer"
    return None


def non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be an integer >= 0"
    return None


def ratio(value: Any) -> str | None:
    if not _finite(value) or not 0 < value <= 1:
        return "must be a number in (0, 1]"
    return None


def optional_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        return "must be a string or None"
    return None


def optional_path(value: Any) -> str | None:
    if value is not None and not isinstance(value, str | os.PathLike):
        return "must be a path (a string or pathlib.Path) or None"
    return None


def non_empty_str(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return None


def str_list(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return "must be a list of strings"
    return None


def optional(validator: Validator) -> Validator:
    """``validator``, or None."""

    def check(value: Any) -> str | None:
        if value is None:
            return None
        message = validator(value)
        return f"{message} (or None)" if message else None

    return check


def choice(*choices: Any) -> Validator:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return "must be " + ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"

    return check


def numbers_in(low: float, high: float) -> Validator:
    """A non-empty list of numbers in the open interval (low, high)."""

    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple) or not value:
            return "must be a non-empty list of numbers"
        for item in value:
            if not _finite(item) or not low < item < high:
                return f"has {item!r}; each must be a number in ({low:g}, {high:g})"
        return None

    return check


def subset_of(known: Sequence[str]) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple) or any(v not in known for v in value):
            return "must be a list drawn from " + ", ".join(repr(k) for k in known)
        return None

    return check
