"""Systemic failure: how often many agents fail together, against independence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.metrics._agents import agent_accuracies
from monoculture.metrics._arrays import safe_divide
from monoculture.metrics._poisson_binomial import poisson_binomial_pmf
from monoculture.metrics._validate import (
    check_responses,
    defined_or_warn,
    prepare,
    warn_undefined_because,
)
from monoculture.responses import Responses

__all__ = [
    "independent_systemic_failure_rate",
    "k_of_n_failure_curve",
    "systemic_failure_rate",
]

_NO_ELIGIBLE_ITEM = "no item was scored for at least 2 agents"


def systemic_failure_rate(responses: Responses, *, complete_only: bool = False) -> float:
    """Share of items (scored by at least 2 agents) on which every scored agent is wrong.

    NaN, with an `UndefinedMetricWarning`, when no item is scored by 2 agents.

    Example:
        >>> from monoculture import Responses
        >>> systemic_failure_rate(Responses.from_arrays(correct=[[0, 0], [1, 0], [1, 1]]))
        0.3333333333333333
    """
    responses = prepare(responses, "systemic_failure_rate", complete_only=complete_only)
    n_scored = responses.observed.sum(axis=1)
    n_wrong = responses.errors.sum(axis=1)
    eligible = n_scored >= 2
    all_wrong = np.count_nonzero(n_wrong[eligible] == n_scored[eligible])
    rate = safe_divide(np.asarray(float(all_wrong)), np.asarray(float(eligible.sum())))
    return defined_or_warn(float(rate), "systemic_failure_rate", _NO_ELIGIBLE_ITEM)


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
    the mean over items of the product of the scored agents' error rates.

    NaN, with an `UndefinedMetricWarning`, when no item is scored by 2 agents.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[0, 0], [1, 0], [1, 1], [1, 0]])
        >>> independent_systemic_failure_rate(r)  # error rates 1/4 and 3/4
        0.1875
    """
    responses = prepare(responses, "independent_systemic_failure_rate", complete_only=complete_only)
    error_rates = 1.0 - agent_accuracies(responses)
    eligible = responses.observed.sum(axis=1) >= 2
    log_p = independent_item_failure_log(responses.observed[eligible], error_rates)
    rate = safe_divide(np.asarray(np.exp(log_p).sum()), np.asarray(float(eligible.sum())))
    return defined_or_warn(float(rate), "independent_systemic_failure_rate", _NO_ELIGIBLE_ITEM)


def k_of_n_failure_curve(responses: Responses) -> pd.DataFrame:
    """Distribution of the number of agents that fail an item, against independence.

    Uses the items every agent was scored on (so that n is the same for all; hence no
    ``complete_only``). The independence baseline is the Poisson-binomial distribution of
    the agents' error rates on those items. With no such item every value is NaN, with an
    `UndefinedMetricWarning`.

    Returns:
        DataFrame with columns ``k, observed, independent, observed_at_least,
        independent_at_least`` for k = 0..n_agents.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[0, 0], [1, 0], [1, 1], [1, 0]])
        >>> k_of_n_failure_curve(r)["observed"].tolist()
        [0.25, 0.5, 0.25]
    """
    responses = check_responses(responses, "k_of_n_failure_curve")
    complete = responses.complete_only()
    n = complete.n_agents
    if complete.n_items == 0:
        warn_undefined_because("k_of_n_failure_curve", "no item was scored for every agent")
        nan = np.full(n + 1, np.nan)
        observed, independent = nan, nan
    else:
        n_wrong = complete.errors.sum(axis=1).astype(np.int64)
        observed = np.bincount(n_wrong, minlength=n + 1) / complete.n_items
        independent = poisson_binomial_pmf(1.0 - agent_accuracies(complete))
    return pd.DataFrame(
        {
            "k": np.arange(n + 1),
            "observed": observed,
            "independent": independent,
            "observed_at_least": observed[::-1].cumsum()[::-1],
            "independent_at_least": np.clip(independent[::-1].cumsum()[::-1], 0.0, 1.0),
        }
    )
