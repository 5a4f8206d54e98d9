"""All pairwise matrices for 1,000 agents x 100,000 items, against one float32 matrix product.

The floor: counting both-wrong items for every pair IS a (agents x items) @ (items x agents)
product, so one float32 GEMM of that shape is the practical limit. Target: <= 3x.
Run: ``.venv/bin/python benchmarks/bench_pairwise.py [--agents N --items M]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from _common import best_time, peak_memory_gb
from monoculture import Responses, metrics
from monoculture.errors import UndefinedMetricWarning


def _floor(rng: np.random.Generator, shape: tuple[int, int]) -> float:
    """Best time of one float32 (agents x items) @ (items x agents) general product."""
    left = rng.random(shape, dtype=np.float32)
    right = rng.random(shape, dtype=np.float32)
    return best_time(lambda: left.T @ right)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument(
        "--missing",
        type=float,
        default=0.0,
        help="share of cells left unscored (exercises the masked path)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = (args.items, args.agents)
    skill = rng.uniform(0.3, 0.9, args.agents).astype(np.float32)
    hard = rng.random(args.items, dtype=np.float32)[:, None]
    correct = (rng.random(shape, dtype=np.float32) < skill * (1.2 - hard)).astype(np.float32)
    if args.missing:
        correct[rng.random(shape, dtype=np.float32) < args.missing] = np.nan
    responses = Responses.from_arrays(correct=correct)
    del correct

    floor = _floor(rng, shape)

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            metrics.pairwise_metrics(responses)

    ours = best_time(run)
    print(f"{args.agents} agents x {args.items:,} items, missing share {args.missing}")
    print(f"  one float32 matrix product (floor): {floor:.2f} s")
    print(f"  all pairwise matrices (11 metrics):  {ours:.2f} s")
    print(f"  ratio to the floor: {ours / floor:.2f}x (target <= 3x)")
    print(f"  peak memory of the process: {peak_memory_gb():.2f} GB (target < 4 GB)")


if __name__ == "__main__":
    main()
