"""Speed of the guard against the targets of issue 12, printed as ratios (>= 1 meets it):
calibrating a gate on MMLU-Pro in under 1 s; monitors at >= 1,000,000 decisions/s in batch
replay and >= 100,000/s one `update` at a time. Also the one-off cost of setting
Page-Hinkley's and ADWIN's parameters from a target ARL by simulation (no target).

Run: ``.venv/bin/python benchmarks/bench_guard.py`` (needs ../shared/data/mmlu-pro for the
gate; the monitors run on generated streams).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from monoculture.guard import (
    Adwin,
    BernoulliCusum,
    Cusum,
    Monitor,
    PageHinkley,
    SimulatedThreshold,
    SynchronisationAlarm,
    adwin_delta,
    calibrate_gate,
    page_hinkley_threshold,
    score_items,
)
from monoculture.io import read_responses

MMLU = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mmlu-pro"
CALIBRATION_LIMIT_S = 1.0
BATCH_TARGET = 1_000_000
SINGLE_TARGET = 100_000


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_gate() -> None:
    path = MMLU / "responses.csv.gz"
    if not path.is_file():
        print("gate: skipped (../shared/data/mmlu-pro is absent)")
        return
    start = time.perf_counter()
    responses = read_responses(path)
    reading = time.perf_counter() - start
    seconds = best_of(
        5,
        lambda: calibrate_gate(score_items(responses, score="agreement"), alpha=0.05, delta=0.1),
    )
    print(
        f"gate: calibrate on MMLU-Pro ({responses.n_items:,} items x {responses.n_agents} "
        f"agents, scores + threshold) {seconds * 1000:.1f} ms; ratio to the 1 s limit "
        f"{CALIBRATION_LIMIT_S / seconds:.0f}x (reading the file: {reading:.2f} s, not counted)"
    )


def bench_monitors() -> None:
    rng = np.random.default_rng(0)
    n = 2_000_000
    normal = rng.standard_normal(n)
    canary = (rng.random(n) < 0.9).astype(float)
    agreement = np.clip(0.6 + 0.15 * rng.standard_normal(n), 0, 1)
    cases: list[tuple[str, Callable[[], Monitor], np.ndarray]] = [
        ("cusum (two-sided, ARL0 1000)", lambda: Cusum(h=5.0), normal),
        ("bernoulli_cusum (p0 .1, p1 .2)", lambda: BernoulliCusum(p0=0.1, p1=0.2, h=4.0), canary),
        (
            "synchronisation (agreement)",
            lambda: SynchronisationAlarm(mean=0.6, sd=0.15, h=5.0),
            agreement,
        ),
        ("page_hinkley (river defaults)", lambda: PageHinkley(), normal),
        ("page_hinkley (ARL0 1000, normal)", lambda: PageHinkley(mean=0, sd=1), normal),
        ("adwin (river defaults)", lambda: Adwin(), canary),
        ("adwin (ARL0 10,000, p0 .1)", lambda: Adwin(p0=0.1), canary),
    ]
    print(f"monitors: decisions/s; ratios to {BATCH_TARGET:,}/s batch, {SINGLE_TARGET:,}/s single")
    for name, make, data in cases:
        size = n if not name.startswith("adwin") else n // 4
        batch_s = best_of(
            3, lambda make=make, data=data, size=size: make().update_many(data[:size])
        )
        m = 200_000
        values = data[:m].tolist()

        def single(make: Callable[[], Monitor] = make, values: list[float] = values) -> None:
            monitor = make()
            update = monitor.update
            for value in values:
                update(value)

        single_s = best_of(3, single)
        batch_rate, single_rate = size / batch_s, m / single_s
        print(
            f"  {name:34s} batch {batch_rate:12,.0f}/s ({batch_rate / BATCH_TARGET:5.2f}x)   "
            f"one at a time {single_rate:10,.0f}/s ({single_rate / SINGLE_TARGET:5.2f}x)"
        )


def bench_calibration() -> None:
    """Setting Page-Hinkley's threshold and ADWIN's delta from a target ARL simulates
    2,000 in-control streams once per setting (then cached): the cost of the first
    construction."""
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "page_hinkley_threshold(1000, normal)",
            lambda: page_hinkley_threshold(1000, mean=0, sd=1),
        ),
        ("page_hinkley_threshold(1000, p0 .1)", lambda: page_hinkley_threshold(1000, p0=0.1)),
        ("adwin_delta(10000, p0 .1)", lambda: adwin_delta(10_000, p0=0.1)),
        ("adwin_delta(10000, normal sd .3)", lambda: adwin_delta(10_000, mean=0.6, sd=0.3)),
    ]
    print("thresholds from a target ARL (first call; cached afterwards):")
    for name, work in cases:
        start = time.perf_counter()
        found = work()
        seconds = time.perf_counter() - start
        assert isinstance(found, SimulatedThreshold)
        print(
            f"  {name:38s} {seconds:5.2f} s  {found.parameter} {found.value:.4g}, simulated ARL "
            f"{found.arl:,.0f} +- {found.standard_error:,.0f} (target {found.target_arl:,.0f})"
        )


if __name__ == "__main__":
    bench_gate()
    bench_calibration()
    bench_monitors()
