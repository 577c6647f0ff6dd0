"""Shared helpers: side-by-side repetitions in rotating order, medians, ratio tables."""

from __future__ import annotations

import asyncio
import io
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


def paired_difference(
    values: list[float], base: list[float], resamples: int = 2000, seed: int = 7
) -> tuple[float, float, float]:
    """Median of the per-repetition differences ``values - base`` (each pair a fraction
    of a second apart in a side-by-side run) and its 95 % bootstrap interval: a shared
    machine's drift cancels out of a pair, so many short pairs resolve a few µs."""
    import random

    diffs = [v - b for v, b in zip(values, base, strict=True)]
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(diffs, k=len(diffs))) for _ in range(resamples))
    low = medians[int(0.025 * resamples)]
    high = medians[int(0.975 * resamples) - 1]
    return statistics.median(diffs), low, high


def environ(path: str, query: str = "", **headers: str) -> dict:
    """A WSGI environ for GET ``path`` (a fresh ``wsgi.input`` each time)."""
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    env.update(headers)
    return env


async def asgi_request(handler, path: str, headers=()) -> None:  # type: ignore[no-untyped-def]
    """One GET through an ASGIHandler: the body, then a disconnect that never comes."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    never = asyncio.Event()

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        return None

    await handler(scope, receive, send)
