"""collectstatic time (plain manifest / WhiteNoise / ours) and middleware start-up time
with 5,000 collected files (1,000 with ``--quick``), side by side.

    .venv/bin/python benchmarks/bench_static_startup.py [--quick]
"""

from __future__ import annotations

import time
from pathlib import Path

from common import side_by_side, table
from static_common import (
    MANY_FILES,
    OURS,
    REPS,
    WHITENOISE,
    WORK,
    cleanup,
    collect,
    make_many,
    prepare,
)


def startup(middleware: str, storage: str, root: Path) -> float:
    from django.test import override_settings
    from django.utils.module_loading import import_string

    from benchmarks.settings.static import STORAGE_BACKENDS

    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": STORAGE_BACKENDS[storage]},
    }
    cls = import_string(middleware)
    with override_settings(STATIC_ROOT=str(root), STORAGES=storages):
        start = time.perf_counter()
        instance = cls(lambda request: None)
        elapsed = time.perf_counter() - start
    del instance
    return elapsed


def many_files() -> None:
    src = WORK / "many-src"
    make_many(src, MANY_FILES)
    roots = {name: WORK / f"many-{name}" for name in ("plain", "whitenoise", "ours")}
    times = {}
    for name in ("plain", "whitenoise", "ours"):
        times[name] = collect(name, src, roots[name])
    plain = times["plain"]
    print(f"## collectstatic, {MANY_FILES:,} source files (one run each)\n")
    print("| storage | total s | compression s (total - plain manifest) | ratio to WhiteNoise |")
    print("|---|---|---|---|")
    for label, name in (
        ("ManifestStaticFilesStorage (no compression)", "plain"),
        ("WhiteNoise 6.12 (br + gzip)", "whitenoise"),
        ("static_opt (zstd + br + gzip)", "ours"),
    ):
        extra = times[name] - plain
        ratio = extra / (times["whitenoise"] - plain) if name != "plain" else 0
        ratio_text = f"x{ratio:.2f}" if name != "plain" else "-"
        print(f"| {label} | {times[name]:.2f} | {max(extra, 0):.2f} | {ratio_text} |")
    print()
    configs = {
        "WhiteNoise 6.12": lambda: startup(WHITENOISE, "whitenoise", roots["whitenoise"]),
        "static_opt": lambda: startup(OURS, "ours", roots["ours"]),
    }
    for fn in configs.values():
        fn()
    results = side_by_side(configs, REPS)
    print(
        table(
            f"Middleware start-up, {MANY_FILES:,} collected files",
            results,
            "WhiteNoise 6.12",
            unit="ms",
            scale=1e3,
        )
    )


def main() -> None:
    prepare()
    try:
        many_files()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
