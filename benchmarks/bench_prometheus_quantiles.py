"""How far Prometheus's histogram_quantile over the exported buckets reads from the
exact percentile, against the dashboard's sketch percentiles (1 % relative error).

    .venv/bin/python benchmarks/bench_prometheus_quantiles.py

histogram_quantile interpolates linearly inside the bucket that holds the quantile,
so its error depends on the bounds and the shape of the data, not on the suite.
"""

from __future__ import annotations

import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from perfsuite.core.sketch import HistData, Mapping

BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
N = 20_000


def histogram_quantile(q: float, values: list[float], edges: list[float]) -> float:
    """Prometheus's estimate from cumulative bucket counts (linear within a bucket)."""
    counts = [sum(1 for v in values if v <= edge) for edge in edges]
    rank = q * len(values)
    for i, count in enumerate(counts):
        if count >= rank:
            low, below = (edges[i - 1], counts[i - 1]) if i else (0.0, 0)
            return low + (edges[i] - low) * (rank - below) / (count - below)
    return edges[-1]


def main() -> None:
    mapping = Mapping(0.01)
    edges = sorted({mapping.edge_at_or_above(b)[1] for b in BOUNDS})
    rng = random.Random(1)
    shapes = {
        "lognormal, median 5 ms, sigma 1": lambda: rng.lognormvariate(math.log(0.005), 1),
        "lognormal, median 40 ms, sigma 0.5": lambda: rng.lognormvariate(math.log(0.04), 0.5),
        "bimodal, 80 % at 3 ms, 20 % at 120 ms": lambda: (
            rng.gauss(0.003, 0.0005) if rng.random() < 0.8 else rng.gauss(0.12, 0.02)
        ),
    }
    print("## histogram_quantile (default bounds) vs the dashboard's percentiles\n")
    print("| data | percentile | exact | histogram_quantile | error | dashboard | error |")
    print("|---|---|---|---|---|---|---|")
    for name, draw in shapes.items():
        values = sorted(max(1e-5, draw()) for _ in range(N))
        sketch = HistData()
        for value in values:
            sketch.add(value, mapping)
        for q in (0.5, 0.95, 0.99):
            exact = values[int(q * N)]
            prom = histogram_quantile(q, values, edges)
            ours = sketch.quantile(q, mapping) or 0.0
            print(
                f"| {name} | p{int(q * 100)} | {exact * 1000:.2f} ms | {prom * 1000:.2f} ms "
                f"| {100 * (prom / exact - 1):+.0f} % | {ours * 1000:.2f} ms "
                f"| {100 * (ours / exact - 1):+.1f} % |"
            )


if __name__ == "__main__":
    main()
