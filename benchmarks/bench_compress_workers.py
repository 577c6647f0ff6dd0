"""Precompression of a big static set with 1 worker vs 2 workers (``STATIC_COMPRESS_WORKERS``).

    .venv/bin/python benchmarks/bench_compress_workers.py [--quick]

The claim behind the parallel-compression test, measured rather than asserted: the
builder compresses distinct files on its thread pool, and the codecs (zlib, brotli,
zstandard) release the GIL, so a second worker shortens the build on a 2-core
machine. Both configurations run in this one process, alternating.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time

from common import side_by_side, table

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from perfsuite.static_opt.engine.build import Builder

QUICK = "--quick" in sys.argv
FILES = 40 if QUICK else 120
REPS = 3 if QUICK else 5
WORDS = [
    "margin", "padding", "color", "display", "flex", "grid", "border", "radius",
    "font", "weight", "line", "height", "shadow", "transition", "opacity", "none",
]  # fmt: skip


def make_set(root: str) -> list[tuple[str, bool]]:
    """``FILES`` distinct CSS-like files of ~60 KB (distinct: no shared compression)."""
    rng = random.Random(7)
    names = []
    for i in range(FILES):
        rules = "".join(
            f".c{i}-{n} {{ {rng.choice(WORDS)}: {rng.randint(0, 999)}px; }}\n" for n in range(2400)
        )
        name = f"css/f{i}.css"
        os.makedirs(os.path.join(root, "css"), exist_ok=True)
        with open(os.path.join(root, name), "w") as handle:
            handle.write(rules)
        names.append((name, False))
    return names


def build(root: str, names: list[tuple[str, bool]], workers: int) -> float:
    for entry in os.scandir(os.path.join(root, "css")):
        if not entry.name.endswith(".css"):
            os.unlink(entry.path)  # compress everything again
    start = time.perf_counter()
    Builder(root, encodings=("gzip", "br", "zstd"), workers=workers).run(names)
    return time.perf_counter() - start


def main() -> None:
    root = tempfile.mkdtemp(prefix="perfsuite-bench-compress-")
    try:
        names = make_set(root)
        results = side_by_side(
            {
                "1 worker": lambda: build(root, names, 1),
                "2 workers": lambda: build(root, names, 2),
            },
            REPS,
        )
        title = f"Precompressing {FILES} distinct ~60 KB files (gzip, br, zstd)"
        print(table(title, results, "1 worker", unit="ms", scale=1e3))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
