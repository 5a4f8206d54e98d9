"""Exact power indices for 1,000 agents with integer weights up to 100 (target: 2 s).

Prints the best wall time of each computation and its ratio to the target (< 1 meets it):
exact Banzhaf and exact Shapley–Shubik by generating functions (the targets), Monte Carlo
for both indices, and exact Shapley–Shubik on smaller and larger swarms to show its growth
(O(n^2 W): the size-by-weight table of all players, built once). Run:
``.venv/bin/python benchmarks/bench_power.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_time
from monoculture.governance import power_indices

TARGET_S = 2.0


def main() -> None:
    rng = np.random.default_rng(0)
    weights = rng.integers(1, 101, 1000)
    print(f"1,000 agents, integer weights 1..100 (total {weights.sum():,}), majority quota")
    rows = [
        ("exact Banzhaf", lambda: power_indices(weights), 3),
        ("exact Shapley–Shubik", lambda: power_indices(weights, index="shapley_shubik"), 3),
        (
            "Monte Carlo Banzhaf, 20,000 coalitions",
            lambda: power_indices(weights, method="monte_carlo", n_samples=20_000),
            3,
        ),
        (
            "Monte Carlo Shapley–Shubik, 20,000 orders",
            lambda: power_indices(
                weights, index="shapley_shubik", method="monte_carlo", n_samples=20_000
            ),
            1,
        ),
    ]
    for name, run, repeats in rows:
        seconds = best_time(run, repeats=repeats)
        ratio = seconds / TARGET_S
        print(f"  {name:<44} {seconds:7.3f} s   ratio to the {TARGET_S:g} s target {ratio:.3f}")
    print("exact Shapley–Shubik by swarm size (O(n^2 W)), weights 1..100:")
    for n in (100, 400, 1000):
        w = rng.integers(1, 101, n)
        seconds = best_time(lambda w=w: power_indices(w, index="shapley_shubik"), repeats=1)
        ratio = seconds / TARGET_S
        print(f"  {n:>5} agents {seconds:7.3f} s   ratio to the {TARGET_S:g} s target {ratio:.3f}")


if __name__ == "__main__":
    main()
