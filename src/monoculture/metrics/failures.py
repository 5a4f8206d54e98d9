"""Systemic failure: how often many agents fail together, against independence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.metrics._poisson_binomial import poisson_binomial_pmf
from monoculture.metrics._validate import check_responses
from monoculture.metrics.agents import accuracy
from monoculture.responses import Responses

__all__ = [
    "independent_systemic_failure_rate",
    "k_of_n_failure_curve",
    "systemic_failure_rate",
]


def systemic_failure_rate(responses: Responses, *, complete_only: bool = False) -> float:
    """Share of items (scored by at least 2 agents) on which every scored agent is wrong."""
    responses = check_responses(responses, "systemic_failure_rate")
    if complete_only:
        responses = responses.complete_only()
    n_scored = responses.observed.sum(axis=1)
    n_wrong = responses.errors.sum(axis=1)
    eligible = n_scored >= 2
    return float(np.mean(n_wrong[eligible] == n_scored[eligible]))


def independent_item_failure_log(observed: np.ndarray, error_rates: np.ndarray) -> np.ndarray:
    """``(..., n_items)`` log P(all scored agents wrong) under independence.

    One matrix product: log error rates ``(..., n_agents)`` times the scored mask. A zero
    error rate becomes log(1e-300), so that an unscored cell (mask 0) adds exactly 0 and a
    scored one drives the product to 0, as it should.
    """
    log_rates = np.log(np.maximum(np.asarray(error_rates, dtype=np.float64), 1e-300))
    return np.asarray(log_rates @ observed.T.astype(np.float64))


def independent_systemic_failure_rate(
    responses: Responses, *, complete_only: bool = False
) -> float:
    """Systemic failure rate that independent agents with the same accuracies would show:
    the mean over items of the product of the scored agents' error rates."""
    responses = check_responses(responses, "independent_systemic_failure_rate")
    if complete_only:
        responses = responses.complete_only()
    error_rates = 1.0 - accuracy(responses).to_numpy()
    eligible = responses.observed.sum(axis=1) >= 2
    log_p = independent_item_failure_log(responses.observed[eligible], error_rates)
    return float(np.exp(log_p).mean())


def k_of_n_failure_curve(responses: Responses) -> pd.DataFrame:
    """Distribution of the number of agents that fail an item, against independence.

    Uses the items every agent was scored on (so that n is the same for all). The
    independence baseline is the Poisson-binomial distribution of the agents' error rates on
    those items.

    Returns:
        DataFrame with columns ``k, observed, independent, observed_at_least,
        independent_at_least`` for k = 0..n_agents.
    """
    responses = check_responses(responses, "k_of_n_failure_curve")
    complete = responses.complete_only()
    if complete.n_items == 0:
        raise InputError(
            "k_of_n_failure_curve: no item was scored for every agent; the k-of-n curve "
            "needs a common set of agents. Drop sparse agents or fill the gaps."
        )
    n_wrong = complete.errors.sum(axis=1).astype(np.int64)
    observed = np.bincount(n_wrong, minlength=complete.n_agents + 1) / complete.n_items
    error_rates = 1.0 - accuracy(complete).to_numpy()
    independent = poisson_binomial_pmf(error_rates)
    return pd.DataFrame(
        {
            "k": np.arange(complete.n_agents + 1),
            "observed": observed,
            "independent": independent,
            "observed_at_least": observed[::-1].cumsum()[::-1],
            "independent_at_least": np.clip(independent[::-1].cumsum()[::-1], 0.0, 1.0),
        }
    )
