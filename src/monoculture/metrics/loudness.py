"""Loud versus quiet failure: does the swarm show dissent when its vote is wrong?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.metrics._validate import check_fraction, check_responses
from monoculture.metrics.voting import plurality_outcome
from monoculture.responses import Responses

__all__ = ["aurc", "quiet_failure_share", "risk_coverage_curve"]

QUIET_AGREEMENT = 0.8
"""Default agreement at or above which a wrong vote counts as quiet (no visible dissent)."""


def quiet_failure_share(responses: Responses, *, threshold: float = QUIET_AGREEMENT) -> float:
    """Among items where the plurality vote is wrong, the share that were quiet: at least
    ``threshold`` of the scored agents gave the (wrong) plurality answer."""
    responses = check_responses(responses, "quiet_failure_share")
    check_fraction(threshold, "threshold", "quiet_failure_share")
    outcome = plurality_outcome(responses)
    wrong = outcome.credit == 0
    if not wrong.any():
        return float("nan")
    return float(np.mean(outcome.agreement[wrong] >= threshold))


def risk_coverage_curve(
    responses: Responses, *, threshold: float = QUIET_AGREEMENT
) -> pd.DataFrame:
    """Risk and coverage when the swarm abstains on items whose agreement is below a level.

    Items are answered in order of decreasing agreement; each distinct agreement level gives
    one point. ``quiet_failures`` counts wrong votes answered with agreement >= ``threshold``.

    Returns:
        DataFrame with columns ``min_agreement, coverage, risk, answered, quiet_failures``.
    """
    responses = check_responses(responses, "risk_coverage_curve")
    check_fraction(threshold, "threshold", "risk_coverage_curve")
    outcome = plurality_outcome(responses)
    scorable = np.isfinite(outcome.credit)
    if not scorable.any():
        raise InputError("risk_coverage_curve: no item can be scored (gold unknown).")
    agreement = outcome.agreement[scorable]
    loss = 1.0 - outcome.credit[scorable]
    quiet = (outcome.credit[scorable] == 0) & (agreement >= threshold)
    order = np.argsort(-agreement, kind="stable")
    agreement, loss, quiet = agreement[order], loss[order], quiet[order]
    last_of_level = np.r_[agreement[1:] != agreement[:-1], True]
    answered = np.arange(1, len(loss) + 1)[last_of_level]
    return pd.DataFrame(
        {
            "min_agreement": agreement[last_of_level],
            "coverage": answered / len(loss),
            "risk": np.cumsum(loss)[last_of_level] / answered,
            "answered": answered,
            "quiet_failures": np.cumsum(quiet)[last_of_level],
        }
    )


def aurc(responses: Responses) -> float:
    """Area under the risk-coverage curve (Geifman et al., 2019), as a step function over
    the agreement levels: lower means abstaining on disagreement removes more errors."""
    curve = risk_coverage_curve(responses)
    widths = np.diff(np.r_[0.0, curve["coverage"].to_numpy()])
    return float((widths * curve["risk"].to_numpy()).sum())
