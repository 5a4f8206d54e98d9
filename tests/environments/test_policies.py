"""Parametric policies and their fit to agents' one-step behaviour: planted parameters
come back."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture.environments import (
    Commons,
    CommonsPolicy,
    DriftingEstimation,
    EstimationPolicy,
    fit_commons_policy,
    fit_estimation_policy,
    play,
)
from monoculture.errors import InputError


def test_commons_policy_is_the_formula() -> None:
    # Catches the noise applied before rounding in the wrong place, or a missing clip.
    policy = CommonsPolicy(fraction=1.5, sigma=0.0)
    observation = {"sustainable": np.array([[10.0, 3.0], [0.0, 100.0]])}
    memory = policy.reset(2, 2, np.random.default_rng(0))
    got = policy.act(observation, memory, np.random.default_rng(0))
    assert got.tolist() == [[15.0, 4.0], [0.0, 100.0]]  # 4.5 rounds half to even; 150 -> 100


def test_commons_homogeneity_is_the_shared_share_of_the_noise() -> None:
    # Catches shared noise drawn per agent (h has no effect) or per run only.
    policy = CommonsPolicy(fraction=1.0, sigma=1.0, homogeneity=0.7, max_request=10**9)
    memory = policy.reset(20_000, 5, np.random.default_rng(0))
    observation = {"sustainable": np.full((20_000, 5), 1e6)}  # rounding negligible
    requests = policy.act(observation, memory, np.random.default_rng(1))
    logs = np.log(np.clip(requests, 1, None) / 1e6)
    correlation = np.corrcoef(logs[:, 0], logs[:, 1])[0, 1]
    assert correlation == pytest.approx(0.7, abs=0.02)


def test_fit_commons_policy_recovers_planted_parameters() -> None:
    planted = CommonsPolicy(fraction=1.3, sigma=0.4, homogeneity=0.6)
    table = play(Commons(), planted, runs=2000, seed=2).table
    table = table[table["step"] == 0]  # one-step behaviour at a full lake
    fitted = fit_commons_policy(table)
    assert fitted.fraction == pytest.approx(1.3, rel=0.05)
    assert fitted.sigma == pytest.approx(0.4, rel=0.1)
    assert fitted.homogeneity == pytest.approx(0.6, abs=0.08)


def test_fit_estimation_policy_recovers_planted_parameters() -> None:
    # Catches a peer weight inflated by a bias the peers share (the within-agent slope).
    environment = DriftingEstimation(n_agents=8, n_steps=12, observation_noise=3.0)
    for h in (0.0, 0.8):
        planted = EstimationPolicy(peer_weight=0.4, bias_scale=3.0, homogeneity=h, noise=1.0)
        table = play(environment, planted, runs=300, seed=3).table
        fitted = fit_estimation_policy(table)
        assert fitted.peer_weight == pytest.approx(0.4, abs=0.03)
        assert fitted.noise == pytest.approx(1.0, rel=0.1)
        assert fitted.bias_scale == pytest.approx(3.0, rel=0.1)
        assert fitted.homogeneity == pytest.approx(h, abs=0.1)


def test_fits_leave_invalid_answers_out_and_refuse_too_little() -> None:
    table = play(Commons(), CommonsPolicy(fraction=1.0, sigma=0.2), runs=50).table
    noisy = table.assign(valid=True)
    noisy.loc[noisy.index[:10], ["action", "valid"]] = [0.0, False]
    assert fit_commons_policy(noisy) == fit_commons_policy(table.iloc[10:])
    with pytest.raises(InputError, match="at least two"):
        fit_commons_policy(table.iloc[:1])
    with pytest.raises(InputError, match="lacks"):
        fit_estimation_policy(table)


def test_policy_options_are_checked() -> None:
    with pytest.raises(InputError, match="homogeneity"):
        CommonsPolicy(homogeneity=1.5)
    with pytest.raises(InputError, match="peer_weight"):
        EstimationPolicy(peer_weight=-0.1)
    with pytest.raises(InputError, match="constitutions"):
        play(Commons(), CommonsPolicy(constitutions=(0, 1)), runs=1)
