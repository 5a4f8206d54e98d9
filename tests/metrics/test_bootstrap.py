"""Bootstrap intervals: consistent with the metrics, reproducible, and calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture import Responses, metrics
from monoculture.metrics._bootstrap import _interval, item_resample_weights, run_bootstrap
from monoculture.metrics._pairwise import PairCounts, kappa_kernel
from tests.conftest import make_swarm


def test_point_estimates_equal_the_public_metrics(swarm: Responses) -> None:
    summary = metrics.bootstrap_summary(swarm, n_resamples=20, rng=1)
    kappa = metrics.error_consistency(swarm).to_numpy()
    upper = kappa[np.triu_indices(swarm.n_agents, k=1)]
    same = metrics.same_wrong_rate(swarm).to_numpy()[np.triu_indices(swarm.n_agents, k=1)]
    expected = {
        "mean_error_consistency": np.nanmean(upper),
        "mean_same_wrong": np.nanmean(same),
        "systemic_failure_rate": metrics.systemic_failure_rate(swarm),
        "systemic_failure_rate_independent": metrics.independent_systemic_failure_rate(swarm),
        "plurality_accuracy": metrics.plurality_accuracy(swarm),
        "plurality_accuracy_independent": metrics.independent_vote_accuracy(swarm),
        "best_agent_accuracy": metrics.accuracy(swarm).max(),
        "icc": metrics.icc(swarm),
        "effective_agents": metrics.effective_agents(swarm),
        "quiet_failure_share": metrics.quiet_failure_share(swarm),
    }
    for name, value in expected.items():
        assert summary[name].value == pytest.approx(value, abs=1e-9), name


def test_intervals_contain_the_estimate_and_widen_with_the_level(swarm: Responses) -> None:
    narrow = metrics.bootstrap_summary(swarm, n_resamples=400, level=0.5, rng=2)
    wide = metrics.bootstrap_summary(swarm, n_resamples=400, level=0.95, rng=2)
    for name in ("mean_error_consistency", "plurality_accuracy", "icc"):
        assert wide[name].ci_low <= narrow[name].ci_low <= narrow[name].ci_high
        assert narrow[name].ci_high <= wide[name].ci_high
        assert wide[name].ci_low <= wide[name].value <= wide[name].ci_high


def test_seeded_bootstrap_is_reproducible(swarm: Responses) -> None:
    first = metrics.bootstrap_summary(swarm, n_resamples=50, rng=9)
    second = metrics.bootstrap_summary(swarm, n_resamples=50, rng=9)
    assert first == second


def test_pair_intervals_surround_the_pair_estimates() -> None:
    swarm = make_swarm(seed=8)
    result = run_bootstrap(swarm, n_resamples=200, rng=4)
    low, high = result.pair_intervals["error_consistency"]
    kappa = metrics.error_consistency(swarm).to_numpy()
    inside = (low <= kappa + 1e-12) & (kappa - 1e-12 <= high)
    assert inside[np.triu_indices(swarm.n_agents, k=1)].mean() > 0.9


def test_resample_weights_count_every_draw() -> None:
    weights = item_resample_weights(50, 7, np.random.default_rng(0))
    assert weights.shape == (7, 50)
    np.testing.assert_array_equal(weights.sum(axis=1), 50)


def test_interval_coverage_in_a_copy_model_simulation() -> None:
    """Two agents of accuracy 0.7, one copying the other's outcome with probability 0.5:
    the population error consistency is exactly 0.5 (Klein et al.'s copy model). Over 1,000
    seeded data sets of 300 items, the 95 % percentile intervals, built with the package's
    resampling and kappa kernel, must cover 0.5 between 93 % and 97 % of the time."""
    rng = np.random.default_rng(2025)
    n_sets, n_items, n_resamples, truth = 1000, 300, 1000, 0.5
    covered = 0
    for start in range(0, n_sets, 100):
        size = min(100, n_sets - start)
        source = rng.random((size, n_items)) < 0.7
        own = rng.random((size, n_items)) < 0.7
        copier = np.where(rng.random((size, n_items)) < truth, source, own)
        wrong_i, wrong_j = (~source).astype(np.float32), (~copier).astype(np.float32)
        weights = np.stack([item_resample_weights(n_items, n_resamples, rng) for _ in range(size)])
        counts = PairCounts(
            n=np.full((size, n_resamples), float(n_items)),
            wrong_i=np.einsum("sbn,sn->sb", weights, wrong_i).astype(np.float64),
            wrong_j=np.einsum("sbn,sn->sb", weights, wrong_j).astype(np.float64),
            both_wrong=np.einsum("sbn,sn->sb", weights, wrong_i * wrong_j).astype(np.float64),
        )
        low, high = _interval(kappa_kernel(counts).T, 0.025)
        covered += int(((low <= truth) & (truth <= high)).sum())
    coverage = covered / n_sets
    print(f"copy-model interval coverage: {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97, coverage
