"""docs/settings.md and the options' own declarations cannot drift apart: every key
is documented once with its default, and the docs name no key that does not exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from perfsuite.core.conf import known_options

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| (.+?) \| (.+) \|$")


def documented() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in DOCS.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} is documented twice"
            rows[match[1]] = match[2]
    return rows


def test_every_setting_is_documented_and_nothing_else() -> None:
    rows = documented()
    options = known_options()
    assert sorted(set(options) - set(rows)) == [], "settings missing from docs/settings.md"
    assert sorted(set(rows) - set(options)) == [], "docs/settings.md names unknown settings"


def test_simple_defaults_are_the_documented_ones() -> None:
    rows = documented()
    for key, option in known_options().items():
        default = option.default
        if default is None or isinstance(default, bool | int | float):
            expected = repr(default)
        elif isinstance(default, str):
            expected = json.dumps(default)
        else:
            continue  # lists and dicts are shown abbreviated
        assert rows[key] == f"`{expected}`", (key, rows[key], expected)


def test_every_option_says_what_it_is() -> None:
    for key, option in known_options().items():
        assert len(option.doc) >= 10 and option.doc.endswith((".", ")")), key
