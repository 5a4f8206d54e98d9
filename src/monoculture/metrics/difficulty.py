"""Shared blind spots versus shared hardness.

Two agents that both fail hard items look correlated even if their errors are otherwise
independent. A Rasch model, ``P(right) = sigmoid(ability_agent - difficulty_item)``, says
how often each agent should fail each item from hardness and skill alone; what remains
correlated beyond it is a shared blind spot.

- `difficulty_adjusted_error_consistency`: kappa whose expected agreement comes from the
  Rasch model instead of the two marginals; 0 when hardness explains the joint failures.
- `residual_error_correlation`: Yen's Q3 (1984), the correlation of Rasch residuals.

The fit is regularised joint maximum likelihood (a Gaussian prior with sd 2 on abilities
and difficulties), so items everyone gets right or wrong stay finite. JML residuals carry a
small negative bias of about -1/(n_agents - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monoculture.metrics._arrays import agent_frame
from monoculture.metrics._products import cross_counts
from monoculture.metrics._validate import check_responses
from monoculture.responses import Responses

__all__ = [
    "RaschFit",
    "difficulty_adjusted_error_consistency",
    "rasch_fit",
    "residual_error_correlation",
]

_PRIOR_PRECISION = 0.25  # 1 / sd**2 with sd = 2


@dataclass(frozen=True)
class RaschFit:
    """Abilities ``(n_agents,)``, difficulties ``(n_items,)`` and ``p_right`` ``(n_items,
    n_agents)`` from a regularised Rasch fit."""

    ability: np.ndarray
    difficulty: np.ndarray
    p_right: np.ndarray
    iterations: int


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def rasch_fit(
    responses: Responses, *, max_iterations: int = 500, tolerance: float = 1e-8
) -> RaschFit:
    """Fit ``logit P(right_ia) = ability_a - difficulty_i`` on the scored cells.

    Alternating Newton steps on abilities and difficulties (each a vectorised update over
    all agents or all items), with the Gaussian prior above.
    """
    responses = check_responses(responses, "rasch_fit")
    weight = responses.observed.astype(np.float64)
    y = responses.correct.astype(np.float64) * weight
    ability = np.zeros(responses.n_agents)
    difficulty = np.zeros(responses.n_items)
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported in the fit
        p = _sigmoid(ability[None, :] - difficulty[:, None])
        info = p * (1 - p) * weight
        # Newton steps on the penalised log-likelihood, capped at 2 logits for stability.
        step_a = ((y - p * weight).sum(axis=0) - _PRIOR_PRECISION * ability) / (
            info.sum(axis=0) + _PRIOR_PRECISION
        )
        step_a = np.clip(step_a, -2.0, 2.0)
        ability = ability + step_a
        p = _sigmoid(ability[None, :] - difficulty[:, None])
        info = p * (1 - p) * weight
        step_d = (-(y - p * weight).sum(axis=1) - _PRIOR_PRECISION * difficulty) / (
            info.sum(axis=1) + _PRIOR_PRECISION
        )
        step_d = np.clip(step_d, -2.0, 2.0)
        difficulty = difficulty + step_d
        # The likelihood ignores a common shift of abilities and difficulties; alternating
        # steps move along it slowly, so jump straight to the shift the prior prefers.
        shift = -(ability.sum() + difficulty.sum()) / (ability.size + difficulty.size)
        ability, difficulty = ability + shift, difficulty + shift
        if max(np.abs(step_a).max(), np.abs(step_d).max()) < tolerance:
            break
    p_right = _sigmoid(ability[None, :] - difficulty[:, None])
    return RaschFit(ability, difficulty, p_right, iteration)


def difficulty_adjusted_error_consistency(
    responses: Responses, *, fit: RaschFit | None = None
) -> pd.DataFrame:
    """Error consistency with the chance agreement predicted by a Rasch model.

    ``(c_obs - c_rasch) / (1 - c_rasch)``, where ``c_rasch`` is the mean over shared items
    of ``p_i p_j + (1 - p_i)(1 - p_j)`` with the fitted probabilities of being right.
    """
    responses = check_responses(responses, "difficulty_adjusted_error_consistency")
    fit = fit or rasch_fit(responses)
    mask = responses.observed.astype(np.float64)
    right = responses.correct.astype(np.float64) * mask
    p = fit.p_right * mask
    q = (1.0 - fit.p_right) * mask
    shared = cross_counts(responses.observed)
    both_right = cross_counts(right)
    both_wrong = cross_counts(responses.errors)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = (both_right + both_wrong) / shared
        expected = (p.T @ p + q.T @ q) / shared
        kappa = np.where(expected < 1, (observed - expected) / (1.0 - expected), np.nan)
    return agent_frame(kappa, responses, "difficulty_adjusted_error_consistency")


def residual_error_correlation(
    responses: Responses, *, fit: RaschFit | None = None
) -> pd.DataFrame:
    """Yen's Q3: Pearson correlation of Rasch residuals (right - p_right) over shared items."""
    responses = check_responses(responses, "residual_error_correlation")
    fit = fit or rasch_fit(responses)
    mask = responses.observed.astype(np.float64)
    residual = (responses.correct - fit.p_right) * mask
    n = mask.T @ mask
    sum_x = residual.T @ mask
    sum_xx = (residual**2).T @ mask
    sum_xy = residual.T @ residual
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (n * sum_xx - sum_x**2) * (n * sum_xx.T - sum_x.T**2)
        corr = np.where(spread > 0, (n * sum_xy - sum_x * sum_x.T) / np.sqrt(spread), np.nan)
    return agent_frame(corr, responses, "residual_error_correlation")
