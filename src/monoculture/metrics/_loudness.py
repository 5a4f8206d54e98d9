"""Loud versus quiet failure: does the swarm show dissent when its vote is wrong?"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from monoculture.errors import UndefinedMetricWarning
from monoculture.metrics._arrays import safe_divide
from monoculture.metrics._validate import (
    check_fraction,
    defined_or_warn,
    prepare,
    warn_undefined_because,
)
from monoculture.metrics._voting import plurality_outcome
from monoculture.responses import Responses

__all__ = ["QUIET_AGREEMENT", "aurc", "aurc_of_curve", "quiet_failure_share", "risk_coverage_curve"]

QUIET_AGREEMENT = 0.8
"""Default agreement at or above which a wrong vote counts as quiet (no visible dissent)."""


def quiet_failure_share(
    responses: Responses, *, threshold: float = QUIET_AGREEMENT, complete_only: bool = False
) -> float:
    """Among items where the plurality vote is wrong, the share that were quiet: at least
    ``threshold`` of the scored agents gave the (wrong) plurality answer.

    NaN, with an `UndefinedMetricWarning`, when the vote is never wrong.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[0, 0, 0], [0, 0, 1], [1, 1, 1]])
        >>> quiet_failure_share(r, threshold=0.9)  # wrong on 2 items, unanimous on 1
        0.5
    """
    responses = prepare(responses, "quiet_failure_share", complete_only=complete_only)
    check_fraction(threshold, "threshold", "quiet_failure_share")
    outcome = plurality_outcome(responses)
    wrong = outcome.credit == 0
    quiet = np.count_nonzero(outcome.agreement[wrong] >= threshold)
    share = safe_divide(np.asarray(float(quiet)), np.asarray(float(wrong.sum())))
    return defined_or_warn(float(share), "quiet_failure_share", "the vote is never wrong")


def risk_coverage_curve(
    responses: Responses, *, threshold: float = QUIET_AGREEMENT, complete_only: bool = False
) -> pd.DataFrame:
    """Risk and coverage when the swarm abstains on items whose agreement is below a level.

    Items are answered in order of decreasing agreement; each distinct agreement level gives
    one point. ``quiet_failures`` counts wrong votes answered with agreement >= ``threshold``.
    With no item that can be scored (gold unknown everywhere) the curve has no rows, with an
    `UndefinedMetricWarning`.

    Returns:
        DataFrame with columns ``min_agreement, coverage, risk, answered, quiet_failures``.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[0, 0, 0], [0, 0, 1], [1, 1, 1]])
        >>> risk_coverage_curve(r)[["coverage", "risk"]].round(3).values.tolist()
        [[0.667, 0.5], [1.0, 0.667]]
    """
    responses = prepare(responses, "risk_coverage_curve", complete_only=complete_only)
    check_fraction(threshold, "threshold", "risk_coverage_curve")
    outcome = plurality_outcome(responses)
    scorable = np.isfinite(outcome.credit)
    if not scorable.any():
        warn_undefined_because("risk_coverage_curve", "no item can be scored (gold unknown)")
    agreement = outcome.agreement[scorable]
    loss = 1.0 - outcome.credit[scorable]
    quiet = (outcome.credit[scorable] == 0) & (agreement >= threshold)
    order = np.argsort(-agreement, kind="stable")
    agreement, loss, quiet = agreement[order], loss[order], quiet[order]
    last_of_level = np.r_[agreement[1:] != agreement[:-1], True][: len(agreement)]
    answered = np.arange(1, len(loss) + 1)[last_of_level]
    return pd.DataFrame(
        {
            "min_agreement": agreement[last_of_level],
            "coverage": answered / max(len(loss), 1),
            "risk": np.cumsum(loss)[last_of_level] / answered,
            "answered": answered,
            "quiet_failures": np.cumsum(quiet)[last_of_level],
        }
    )


def aurc_of_curve(curve: pd.DataFrame) -> float:
    """Area under a `risk_coverage_curve` as a step function over its agreement levels;
    NaN for a curve with no rows."""
    if len(curve) == 0:
        return float("nan")
    widths = np.diff(np.r_[0.0, curve["coverage"].to_numpy()])
    return float((widths * curve["risk"].to_numpy()).sum())


def aurc(responses: Responses, *, complete_only: bool = False) -> float:
    """Area under the risk-coverage curve (Geifman et al., 2019), as a step function over
    the agreement levels: lower means abstaining on disagreement removes more errors.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[0, 0, 0], [0, 0, 1], [1, 1, 1]])
        >>> round(aurc(r), 4)  # 2/3 * 1/2 + 1/3 * 2/3
        0.5556
    """
    responses = prepare(responses, "aurc", complete_only=complete_only)
    with warnings.catch_warnings():  # one warning, naming aurc, when undefined
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        curve = risk_coverage_curve(responses)
    return defined_or_warn(aurc_of_curve(curve), "aurc", "no item can be scored (gold unknown)")
