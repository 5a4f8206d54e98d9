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

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monoculture.errors import ConvergenceWarning, InputError
from monoculture.metrics._arrays import agent_frame, safe_divide
from monoculture.metrics._pairwise import pair_counts
from monoculture.metrics._products import cross_counts
from monoculture.metrics._validate import check_count, check_positive, prepare
from monoculture.responses import Responses

__all__ = [
    "RaschFit",
    "difficulty_adjusted_error_consistency",
    "rasch_fit",
    "residual_error_correlation",
]

_PRIOR_PRECISION = 0.25  # 1 / sd**2 with sd = 2

_RASCH_EXAMPLE = [[1, 1, 1], [0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1], [1, 0, 0], [0, 0, 0]]
"""Agents 0 and 1 fail together on items agent 2 gets right."""


@dataclass(frozen=True)
class RaschFit:
    """Abilities ``(n_agents,)``, difficulties ``(n_items,)`` and ``p_right`` ``(n_items,
    n_agents)`` from a regularised Rasch fit, with the iterations it took.

    Example:
        >>> from monoculture import Responses
        >>> rasch_fit(Responses.from_arrays(correct=[[1, 1], [1, 0], [0, 0]])).converged
        True
    """

    ability: np.ndarray
    difficulty: np.ndarray
    p_right: np.ndarray
    iterations: int
    converged: bool = True


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def rasch_fit(
    responses: Responses,
    *,
    max_iterations: int = 500,
    tolerance: float = 1e-8,
    complete_only: bool = False,
) -> RaschFit:
    """Fit ``logit P(right_ia) = ability_a - difficulty_i`` on the scored cells.

    Alternating Newton steps on abilities and difficulties (each a vectorised update over
    all agents or all items), with the Gaussian prior above, until no step exceeds
    ``tolerance``; a `ConvergenceWarning` when ``max_iterations`` is reached first.

    Example:
        >>> from monoculture import Responses
        >>> fit = rasch_fit(Responses.from_arrays(correct=[[1, 1], [1, 0], [0, 0]]))
        >>> bool(fit.ability[0] > fit.ability[1]), bool(fit.difficulty[2] > fit.difficulty[0])
        (True, True)
    """
    responses = prepare(responses, "rasch_fit", complete_only=complete_only)
    check_count(max_iterations, "max_iterations", "rasch_fit")
    check_positive(tolerance, "tolerance", "rasch_fit")
    weight = responses.observed.astype(np.float64)
    y = responses.correct.astype(np.float64) * weight
    ability = np.zeros(responses.n_agents)
    difficulty = np.zeros(responses.n_items)
    iteration, converged = 0, False
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
        if max(np.abs(step_a).max(initial=0), np.abs(step_d).max(initial=0)) < tolerance:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"rasch_fit: no convergence in {max_iterations} iterations (tolerance "
            f"{tolerance:g}); raise max_iterations. Figures built on the fit are approximate.",
            ConvergenceWarning,
            stacklevel=2,
        )
    p_right = _sigmoid(ability[None, :] - difficulty[:, None])
    return RaschFit(ability, difficulty, p_right, iteration, converged)


def _fit_for(responses: Responses, fit: RaschFit | None, function: str) -> RaschFit:
    if fit is None:
        return rasch_fit(responses)
    if fit.p_right.shape != responses.correct.shape:
        raise InputError(
            f"{function}: `fit` has shape {fit.p_right.shape} but the responses are "
            f"{responses.correct.shape}; fit the same responses (and complete_only)."
        )
    return fit


def difficulty_adjusted_error_consistency(
    responses: Responses, *, fit: RaschFit | None = None, complete_only: bool = False
) -> pd.DataFrame:
    """Error consistency with the chance agreement predicted by a Rasch model.

    ``(c_obs - c_rasch) / (1 - c_rasch)``, where ``c_rasch`` is the mean over shared items
    of ``p_i p_j + (1 - p_i)(1 - p_j)`` with the fitted probabilities of being right.
    ``fit`` reuses a `rasch_fit` of the same responses (and the same ``complete_only``).
    NaN, as for `error_consistency`, where an agent is always right or always wrong on the
    shared items.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=_RASCH_EXAMPLE)
        >>> m = difficulty_adjusted_error_consistency(r)
        >>> bool(m.iloc[0, 1] > m.iloc[0, 2])  # agents 0 and 1 share a failure
        True
    """
    responses = prepare(
        responses, "difficulty_adjusted_error_consistency", complete_only=complete_only
    )
    fit = _fit_for(responses, fit, "difficulty_adjusted_error_consistency")
    mask = responses.observed.astype(np.float64)
    right = responses.correct.astype(np.float64) * mask
    p = fit.p_right * mask
    q = (1.0 - fit.p_right) * mask
    shared = cross_counts(responses.observed)
    both_right = cross_counts(right)
    both_wrong = cross_counts(responses.errors)
    observed = safe_divide(both_right + both_wrong, shared)
    expected = safe_divide(p.T @ p + q.T @ q, shared)
    kappa = safe_divide(observed - expected, 1.0 - expected)
    kappa = np.where(_both_vary(responses), kappa, np.nan)
    return agent_frame(kappa, responses, "difficulty_adjusted_error_consistency")


def _both_vary(responses: Responses) -> np.ndarray:
    """``(n_agents, n_agents)``: both agents are right on some and wrong on other shared
    items. Elsewhere, as for plain error consistency, agreement beyond chance has no
    meaning (an agent that never errs agrees with everyone by construction)."""
    counts = pair_counts(responses)
    return np.asarray(
        (counts.wrong_i > 0)
        & (counts.wrong_i < counts.n)
        & (counts.wrong_j > 0)
        & (counts.wrong_j < counts.n)
    )


def residual_error_correlation(
    responses: Responses, *, fit: RaschFit | None = None, complete_only: bool = False
) -> pd.DataFrame:
    """Yen's Q3: Pearson correlation of Rasch residuals (right - p_right) over shared items.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=_RASCH_EXAMPLE)
        >>> q3 = residual_error_correlation(r)
        >>> bool(q3.iloc[0, 1] > q3.iloc[0, 2])
        True
    """
    responses = prepare(responses, "residual_error_correlation", complete_only=complete_only)
    fit = _fit_for(responses, fit, "residual_error_correlation")
    mask = responses.observed.astype(np.float64)
    residual = (responses.correct - fit.p_right) * mask
    n = mask.T @ mask
    sum_x = residual.T @ mask
    sum_xx = (residual**2).T @ mask
    sum_xy = residual.T @ residual
    spread = (n * sum_xx - sum_x**2) * (n * sum_xx.T - sum_x.T**2)
    corr = safe_divide(n * sum_xy - sum_x * sum_x.T, np.sqrt(np.maximum(spread, 0.0)))
    corr = np.where(_both_vary(responses), corr, np.nan)
    return agent_frame(corr, responses, "residual_error_correlation")
