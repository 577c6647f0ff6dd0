"""Shared helpers: side-by-side repetitions in rotating order, medians, ratio tables."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_django(settings_module: str = "tests.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def side_by_side(
    configs: dict[str, Callable[[], float]], repetitions: int = 7
) -> dict[str, list[float]]:
    """Run every config once per repetition, rotating the order; each returns seconds/op."""
    names = list(configs)
    results: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(configs[name]())
    return results


def table(
    title: str, results: dict[str, list[float]], baseline: str, unit: str = "µs", scale: float = 1e6
) -> str:
    """Median per config and the ratio to ``baseline`` paired per repetition."""
    lines = [
        f"## {title}",
        "",
        f"| configuration | median {unit} | ratio to {baseline} |",
        "|---|---|---|",
    ]
    base = results[baseline]
    for name, values in results.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        median = statistics.median(values) * scale
        lines.append(f"| {name} | {median:,.3f} | x{statistics.median(ratios):.2f} |")
    return "\n".join(lines) + "\n"
