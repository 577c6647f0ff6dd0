"""virtual_list.js stays small: under 3 KB once minified (comments and the whitespace
a minifier drops removed, string literals kept as they are), and it parses."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from pathlib import Path

import perfsuite.memo_components

SCRIPT = (
    Path(perfsuite.memo_components.__file__).parent
    / "static/perfsuite/memo_components/virtual_list.js"
)
TOKEN = re.compile(
    r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|(/\*.*?\*/|//[^\n]*)|(\s+)|(.)""", re.S
)


def word_end(char: str) -> bool:
    return char.isalnum() or char in "_$"


def minify(source: str) -> str:
    """Comments out, whitespace only where two words would otherwise join."""
    out: list[str] = []
    pending_space = False
    for string, comment, space, char in TOKEN.findall(source):
        if comment:
            continue
        if space:
            pending_space = True
            continue
        piece = string or char
        if pending_space and out and word_end(out[-1][-1]) and word_end(piece[0]):
            out.append(" ")
        pending_space = False
        out.append(piece)
    return "".join(out)


def test_the_script_is_under_3_kb_minified() -> None:
    source = SCRIPT.read_text()
    small = minify(source)
    assert len(small.encode()) < 3 * 1024, len(small.encode())
    assert len(gzip.compress(small.encode())) < 1500
    assert "function init(el)" in source  # the minifier is measuring the real file


def test_the_minified_script_still_parses(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        return  # the browser test runs the script itself
    target = tmp_path / "virtual_list.min.js"
    target.write_text(minify(SCRIPT.read_text()))
    for path in (SCRIPT, target):
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
