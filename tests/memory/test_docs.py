"""docs/memory.md lists every MEMORY_ setting with the default of docs/settings.md, every
metric the app defines, and its check ids as docs/checks.md does."""

from __future__ import annotations

import re
from pathlib import Path

from perfsuite.core import metrics
from perfsuite.core.conf import known_options
from tests.core.test_settings_docs import ROW
from tests.core.test_settings_docs import documented as settings_rows

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = (DOCS / "memory.md").read_text()


def page_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in PAGE.splitlines():
        match = ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} is documented twice"
            rows[match[1]] = match[2]
    return rows


def test_every_memory_setting_is_on_the_page_with_its_default() -> None:
    ours = {key for key in known_options() if key.startswith("MEMORY_")}
    rows = page_rows()
    assert set(rows) == ours
    everywhere = settings_rows()
    for key in ours:
        assert rows[key] == everywhere[key] == f"`{known_options()[key].default!r}`", key


def test_every_metric_of_the_app_is_on_the_page() -> None:
    import perfsuite.memory.metrics  # noqa: F401  (defines them)

    names = {m.name for m in metrics.registry.metrics() if m.name.startswith("perfsuite_memory_")}
    assert len(names) >= 10
    for name in names:
        assert f"`{name}`" in PAGE or f"`{name}{{" in PAGE, name


def test_check_ids_are_in_checks_md() -> None:
    ids = set(re.findall(r"perfsuite\.[EW]8\d\d", PAGE))
    assert ids == {"perfsuite.W801"}
    checks = (DOCS / "checks.md").read_text()
    for check_id in ids:
        assert f"| `{check_id}` |" in checks
