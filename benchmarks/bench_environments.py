"""Vectorised play of the environments at scale: 10,000 commons runs x 12 months (GovSim's
game, with over-subscribed months handed out ton by ton) and 10,000 estimation runs; and the
designs' comparison (every figure with its 1,000-resample bootstrap, a fitted simulator of
1,000 runs) for a design of 1,000 runs, against the time to play those runs.

Target: the commons in well under a second on 2 cores; agent-steps per second for both, and
the share of the commons' time spent in the stochastic assignment.
Run: ``.venv/bin/python benchmarks/bench_environments.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import best_time, peak_memory_gb
from monoculture.environments import (
    Commons,
    CommonsPolicy,
    DriftingEstimation,
    EstimationPolicy,
    assign_stochastic,
    compare_designs,
    play,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    runs = args.runs

    commons = Commons()
    greedy = CommonsPolicy(fraction=1.3, sigma=0.5, homogeneity=0.5)
    table = play(commons, greedy, runs=runs, seed=0).table
    rows = len(table)
    over = (
        table.groupby(["run", "step"])["action"].sum()
        > table.groupby(["run", "step"])["pool_before"].first()
    ).mean()
    seconds = best_time(lambda: play(commons, greedy, runs=runs, seed=0))
    print(
        f"commons: {runs:,} runs x {commons.n_steps} months x {commons.n_agents} fishers: "
        f"{seconds:.3f} s ({rows:,} agent-steps played, {rows / seconds:,.0f}/s; "
        f"{over:.0%} of months over-subscribed)"
    )
    requests = np.full((runs, 5), 30)
    pool = np.full(runs, 100)
    assign = best_time(lambda: assign_stochastic(requests, pool, np.random.default_rng(0)))
    print(f"  one fully over-subscribed month (100 tons, ton by ton): {assign * 1e3:.1f} ms")

    estimation = DriftingEstimation(n_agents=10, n_steps=20, network="small_world", degree=4)
    policy = EstimationPolicy(noise=1.0)
    seconds = best_time(lambda: play(estimation, policy, runs=runs, seed=0))
    steps = runs * estimation.n_steps * estimation.n_agents
    print(
        f"estimation: {runs:,} runs x {estimation.n_steps} steps x {estimation.n_agents} "
        f"agents: {seconds:.3f} s ({steps / seconds:,.0f} agent-steps/s)"
    )
    design = play(commons, greedy, runs=1000, seed=1).table
    playing = best_time(lambda: play(commons, greedy, runs=1000, seed=1))
    comparing = best_time(
        lambda: compare_designs({"d": design}, {"d": commons}, simulator_runs=1000), repeats=2
    )
    print(
        f"designs: one design of 1,000 commons runs compared (every figure, 1,000 bootstrap "
        f"resamples, a fitted simulator of 1,000 runs): {comparing:.2f} s, "
        f"{comparing / playing:.0f}x the {playing:.3f} s of playing its runs"
    )
    print(f"peak memory: {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    main()
