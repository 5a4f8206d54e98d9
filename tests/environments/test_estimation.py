"""Drifting estimation: the diversity prediction theorem, the network, the drift, and
coherent drift planted in homogeneous vs diverse swarms."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture.environments import (
    DriftingEstimation,
    EstimationPolicy,
    diversity_terms,
    estimation_metrics,
    play,
)
from monoculture.errors import InputError, UndefinedMetricWarning
from tests.environments._policies import FixedPolicy


def test_diversity_prediction_identity_holds_exactly() -> None:
    # Catches a diversity computed around the truth (or with ddof=1): the identity breaks.
    table = play(DriftingEstimation(), EstimationPolicy(noise=1.0), runs=30, seed=5).table
    steps = estimation_metrics(table, n_resamples=50).steps
    gap = steps["mean_sq_error"] - steps["diversity"] - steps["collective_sq_error"]
    assert np.abs(gap).max() < 1e-12


def test_diversity_terms_match_a_naive_loop() -> None:
    # Catches averaging over the wrong axis.
    rng = np.random.default_rng(3)
    estimates, truth = rng.normal(50, 5, size=(4, 6, 7)), rng.normal(50, 1, size=(4, 6))
    terms = diversity_terms(estimates, truth)
    for r in range(4):
        for t in range(6):
            values = list(estimates[r, t])
            mean = sum(values) / len(values)
            assert terms["collective_sq_error"][r, t] == pytest.approx((mean - truth[r, t]) ** 2)
            assert terms["mean_sq_error"][r, t] == pytest.approx(
                sum((v - truth[r, t]) ** 2 for v in values) / len(values)
            )
            assert terms["diversity"][r, t] == pytest.approx(
                sum((v - mean) ** 2 for v in values) / len(values)
            )


def test_coherent_drift_is_large_for_a_homogeneous_swarm() -> None:
    # Planted: the same bias size, shared (h = 1) or own (h = 0). A shared bias moves whole
    # runs (spread across runs large, diversity within small); own biases cancel in the mean
    # and show as diversity. Catches a spread computed within runs, or a swapped ratio.
    environment = DriftingEstimation(observation_noise=1.0, n_steps=15)
    results = {}
    for h in (1.0, 0.0):
        policy = EstimationPolicy(homogeneity=h, bias_scale=5.0, noise=0.5)
        table = play(environment, policy, runs=60, seed=8).table
        results[h] = estimation_metrics(table, n_resamples=300)
    same, diverse = results[1.0], results[0.0]
    assert same.across_run_spread.value > 2 * diverse.across_run_spread.value
    assert same.within_run_spread.value < diverse.within_run_spread.value / 3
    assert same.coherence.value > 10 * diverse.coherence.value
    assert same.coherence.ci_low > diverse.coherence.ci_high
    # With shared error nothing of the error shows as diversity: the collective is no better.
    assert same.collective_sq_error.value > 0.9 * same.mean_sq_error.value
    assert diverse.collective_sq_error.value < 0.5 * diverse.mean_sq_error.value


def test_peer_mean_follows_the_network() -> None:
    # Catches self-inclusion or a row/column swap of the adjacency.
    environment = DriftingEstimation(n_agents=6, network="small_world", degree=2)
    previous = np.random.default_rng(0).normal(size=(3, 6))
    got = environment.peer_mean(previous)
    peers = environment.peers
    assert not peers.diagonal().any()
    assert (peers == peers.T).all()
    for i in range(6):
        seen = [j for j in range(6) if peers[i, j]]
        assert np.allclose(got[:, i], previous[:, seen].mean(axis=1), atol=1e-12)
    lonely = DriftingEstimation(n_agents=3, network="none")
    assert np.isnan(lonely.peer_mean(previous[:, :3])).all()


def test_prompt_shows_the_observation_and_the_peers() -> None:
    environment = DriftingEstimation(n_agents=3, network="complete", observation_noise=2.0)
    state = environment.reset(1, np.random.default_rng(0))
    first = environment.prompt(state, 0, 1)
    assert f"{state.observation[0, 1]:.2f}" in first
    assert "previous" not in first.lower()
    state, _ = environment.step(
        state, np.array([[40.0, 50.0, 60.0]]), np.ones((1, 3), bool), np.random.default_rng(1)
    )
    second = environment.prompt(state, 0, 1)
    assert "Your previous estimate was 50.00." in second
    assert "agents you talk to: 40.00, 60.00." in second


def test_invalid_answers_are_replaced_by_the_own_observation() -> None:
    # Catches a NaN estimate poisoning the collective, or a silent 0.
    environment = DriftingEstimation(n_agents=3, n_steps=1, bound=100.0)
    table = play(environment, FixedPolicy([[np.nan, 1e6, 55.0]]), runs=2).table
    assert table["valid"].tolist() == [False, False, True] * 2
    replaced = table[~table["valid"]]
    assert (replaced["action"] == replaced["observation"]).all()
    assert np.isfinite(table["collective"]).all()


@pytest.mark.parametrize("drift", ["random_walk", "regime_shift"])
def test_drift_has_the_planted_size(drift: str) -> None:
    # Catches a drift scale applied as a variance, or shifts that happen every step.
    environment = DriftingEstimation(
        n_agents=2, n_steps=50, drift=drift, drift_scale=3.0, regime_probability=0.2
    )
    table = play(environment, EstimationPolicy(), runs=200, seed=1).table
    truth = table[table["agent"] == 0].pivot(index="run", columns="step", values="truth")
    steps = np.diff(truth.to_numpy(), axis=1)
    if drift == "random_walk":
        assert steps.std() == pytest.approx(3.0, rel=0.05)
    else:
        assert (steps != 0).mean() == pytest.approx(0.2, abs=0.02)
        assert steps[steps != 0].std() == pytest.approx(10.0, rel=0.1)


def test_one_run_gives_nan_spread_with_a_warning() -> None:
    table = play(DriftingEstimation(n_steps=3), EstimationPolicy(), runs=1).table
    with pytest.warns(UndefinedMetricWarning):
        metrics = estimation_metrics(table)
    assert np.isnan(metrics.across_run_spread.value)
    assert np.isnan(metrics.coherence.value)


def test_bad_options_and_tables_are_refused() -> None:
    with pytest.raises(InputError, match="drift"):
        DriftingEstimation(drift="sideways")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="degree"):
        DriftingEstimation(n_agents=3, network="small_world", degree=4)
    table = play(DriftingEstimation(n_steps=2), EstimationPolicy(), runs=2).table
    with pytest.raises(InputError, match="every"):
        estimation_metrics(table.iloc[1:])
