"""CAPA for 50 agents x 10,000 items x 4 options with probabilities, against lm-sim.

lm-sim computes one pair at a time with Python loops over items, so it is timed on a
subset of pairs and scaled per pair to all 1,225 pairs (said in the output). The values are
checked equal to 1e-12 on the timed pairs. Target: >= 1,000x faster.
Run: ``.venv/bin/python benchmarks/bench_capa.py [--timed-pairs K]``.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from lmsim.metrics import CAPA

from _common import best_time
from monoculture import Responses, metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--options", type=int, default=4)
    parser.add_argument("--timed-pairs", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(args.items, args.agents, args.options))
    logits += 2.0 * rng.normal(size=(args.items, 1, args.options))  # shared item preferences
    probs = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    gold = rng.integers(0, args.options, args.items)
    answers = probs.argmax(axis=2)
    responses = Responses.from_arrays(answers=answers, gold=gold, probs=probs)

    ours = best_time(lambda: metrics.capa(responses, form="probabilistic"))
    matrix = metrics.capa(responses, form="probabilistic").to_numpy()

    pairs = list(itertools.combinations(range(args.agents), 2))
    timed = [pairs[k] for k in rng.choice(len(pairs), args.timed_pairs, replace=False)]
    gold_list = gold.tolist()
    start = time.perf_counter()
    worst = 0.0
    for i, j in timed:
        reference = CAPA(prob=True).compute_k(list(probs[:, i]), list(probs[:, j]), gold_list)
        worst = max(worst, abs(reference - matrix[i, j]))
    per_pair = (time.perf_counter() - start) / len(timed)
    lm_sim_all = per_pair * len(pairs)
    print(f"CAPA, {args.agents} agents x {args.items:,} items x {args.options} options")
    print(f"  monoculture, all {len(pairs)} pairs: {ours * 1000:.1f} ms")
    print(
        f"  lm-sim: {per_pair:.3f} s per pair, timed on {len(timed)} pairs, scaled to "
        f"{len(pairs)} pairs: {lm_sim_all:.0f} s"
    )
    print(f"  speed-up: {lm_sim_all / ours:,.0f}x (target >= 1,000x)")
    print(f"  largest difference from lm-sim on the timed pairs: {worst:.1e} (must be <= 1e-12)")


if __name__ == "__main__":
    main()
