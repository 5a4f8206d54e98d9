"""Shared hardness versus shared blind spots: the Rasch-based measures."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture import Responses, metrics
from monoculture.synthetic import latent_swarm


def _rasch_data(seed: int, n_items: int = 4000, n_agents: int = 8) -> tuple[Responses, np.ndarray]:
    rng = np.random.default_rng(seed)
    ability = rng.normal(0.5, 0.8, n_agents)
    difficulty = rng.normal(0.0, 1.5, n_items)
    p = 1 / (1 + np.exp(-(ability[None, :] - difficulty[:, None])))
    correct = (rng.random(p.shape) < p).astype(float)
    return Responses.from_arrays(correct=correct), ability


def test_rasch_fit_recovers_abilities_up_to_a_shift() -> None:
    responses, ability = _rasch_data(1)
    fit = metrics.rasch_fit(responses)
    centred = fit.ability - fit.ability.mean()
    np.testing.assert_allclose(centred, ability - ability.mean(), atol=0.2)


def test_hardness_alone_leaves_no_adjusted_consistency() -> None:
    responses, _ = _rasch_data(2, n_agents=6)
    raw = metrics.error_consistency(responses).to_numpy()
    adjusted = metrics.difficulty_adjusted_error_consistency(responses).to_numpy()
    upper = np.triu_indices(6, k=1)
    assert raw[upper].mean() > 0.15  # shared hardness looks like correlation ...
    assert abs(adjusted[upper].mean()) < 0.05  # ... and the adjustment removes it


def test_a_family_blind_spot_survives_the_adjustment() -> None:
    swarm = latent_swarm(
        n_agents=6, n_items=3000, n_families=2, shared_loading=0.0, family_loading=2.0, seed=3
    )
    adjusted = metrics.difficulty_adjusted_error_consistency(swarm).to_numpy()
    family = np.arange(6) % 2
    same = (family[:, None] == family[None, :]) & ~np.eye(6, dtype=bool)
    different = family[:, None] != family[None, :]
    assert adjusted[same].mean() > adjusted[different].mean() + 0.2


def test_residual_correlation_matches_a_naive_loop(swarm: Responses) -> None:
    fit = metrics.rasch_fit(swarm)
    q3 = metrics.residual_error_correlation(swarm, fit=fit).to_numpy()
    residual = swarm.correct - fit.p_right
    for i, j in [(0, 1), (1, 3), (2, 4)]:
        both = swarm.observed[:, i] & swarm.observed[:, j]
        expected = np.corrcoef(residual[both, i], residual[both, j])[0, 1]
        assert q3[i, j] == pytest.approx(expected, abs=1e-12)
