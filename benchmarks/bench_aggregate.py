"""Aggregators: every method fitted and applied on MMLU-Pro, and Dawid–Skene EM at scale.

1. Fit on half of MMLU-Pro (31 LLMs x 12,032 items) and decide the other half, every
   default method (target: under 5 s on 2 cores); crowd-kit's DawidSkene on the same
   training answers as the peer (same iterations).
2. Dawid–Skene EM on 1,000 agents x 100,000 items x 4 options, 100 % observed (target:
   under 60 s): time per iteration and in all.
Run: ``.venv/bin/python benchmarks/bench_aggregate.py [--agents N --items M]``. MMLU-Pro is
read from ../shared/data (skipped when absent).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from monoculture import Responses
from monoculture.aggregate import DEFAULT_METHODS, DawidSkene, make_aggregator, split_items

MMLU = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mmlu-pro"


def mmlu() -> None:
    path = MMLU / "responses.csv.gz"
    if not path.exists():
        print(f"MMLU-Pro: skipped, {path} is absent")
        return
    from monoculture.io import read_responses

    train, test = split_items(read_responses(path), seed=0)
    start = time.perf_counter()
    fitted = {name: make_aggregator(name).fit(train) for name in DEFAULT_METHODS}
    for aggregator in fitted.values():
        aggregator.predict(test)
    ours = time.perf_counter() - start
    print(
        f"MMLU-Pro, {len(DEFAULT_METHODS)} methods fitted on {train.n_items:,} items and "
        f"applied to {test.n_items:,}: {ours:.2f} s (target 5 s: {5 / ours:.1f}x inside it)"
    )
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene as Theirs
    except ImportError:
        print("crowd-kit is not installed: no peer timing")
        return
    codes = np.where(train.observed, train.answers, -1)
    items, agents = np.nonzero(codes >= 0)
    table = pd.DataFrame({"task": items, "worker": agents, "label": codes[items, agents]})
    n_iter = len(fitted["dawid_skene"].loss_history_)
    ds = DawidSkene(n_iter=n_iter, tol=-np.inf, use_gold=False, smoothing=0.0)
    start = time.perf_counter()
    ds.fit(train)
    ours = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        Theirs(n_iter=n_iter, tol=-np.inf).fit(table)
        theirs = time.perf_counter() - start
    print(
        f"Dawid-Skene, {n_iter} EM iterations on the training half: ours {ours:.3f} s, "
        f"crowd-kit {theirs:.2f} s ({theirs / ours:.0f}x faster)"
    )


def large(n_agents: int, n_items: int, n_options: int) -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, n_options, n_items)
    # Weak agents (accuracy 0.2-0.5 with 4 options) make EM work for its answer.
    accuracy = rng.uniform(0.2, 0.5, n_agents).astype(np.float32)
    right = rng.random((n_items, n_agents), dtype=np.float32) < accuracy
    noise = rng.integers(0, n_options, (n_items, n_agents), dtype=np.int32)
    answers = np.where(right, truth[:, None].astype(np.int32), noise)
    del right, noise
    responses = Responses.from_arrays(
        answers=answers, gold=np.full(n_items, -1), labels=[str(k) for k in range(n_options)]
    )
    del answers
    model = DawidSkene(use_gold=False)
    start = time.perf_counter()
    decisions = model.fit_predict(responses)
    seconds = time.perf_counter() - start
    iterations = len(model.loss_history_)
    recovered = float((decisions.answer == truth).mean())
    print(
        f"Dawid-Skene EM, {n_agents:,} agents x {n_items:,} items x {n_options} options: "
        f"converged in {iterations} iterations, fit and prediction {seconds:.1f} s (target "
        f"60 s: {60 / seconds:.1f}x inside it); truth recovered on {recovered:.1%} of items"
    )
    # Many agents converge in few iterations; a fixed count shows the cost of each.
    fixed = 20
    start = time.perf_counter()
    DawidSkene(use_gold=False, n_iter=fixed, tol=-np.inf).fit(responses)
    seconds = time.perf_counter() - start
    print(
        f"  {fixed} iterations forced: {seconds:.1f} s in all, "
        f"{seconds / fixed:.2f} s per iteration (including the one-off set-up)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--options", type=int, default=4)
    args = parser.parse_args()
    mmlu()
    large(args.agents, args.items, args.options)


if __name__ == "__main__":
    main()
