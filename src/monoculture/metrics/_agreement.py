"""Agreement of the whole swarm: Fleiss' kappa, Krippendorff's alpha on answers, and the
intra-class correlation of errors with the effective number of independent agents."""

from __future__ import annotations

import numpy as np

from monoculture.metrics._arrays import kish_effective_agents, label_counts, safe_divide
from monoculture.metrics._validate import (
    check_responses,
    defined_or_warn,
    prepare,
    require_answers,
    warn_undefined_because,
)
from monoculture.responses import Responses

__all__ = ["effective_agents", "fleiss_kappa", "icc", "krippendorff_alpha"]


def fleiss_kappa(responses: Responses) -> float:
    """Fleiss' kappa on the answers, over items on which every agent gave a parsed answer
    (Fleiss 1971; equals statsmodels ``fleiss_kappa(table, method="fleiss")``).

    It always uses those complete items, so it has no ``complete_only``. NaN, with an
    `UndefinedMetricWarning`, when no item qualifies or every answer is the same label.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(answers=[[0, 0], [1, 1], [0, 1]], gold=[0, 1, 0])
        >>> round(fleiss_kappa(r), 3)
        0.333
    """
    responses = check_responses(responses, "fleiss_kappa")
    answers = require_answers(responses, "fleiss_kappa")
    complete = (responses.observed & (answers >= 0)).all(axis=1)
    if not complete.any():
        warn_undefined_because("fleiss_kappa", "no item has a parsed answer from every agent")
        return float("nan")
    counts = label_counts(answers[complete], len(responses.labels)).astype(np.float64)
    n_raters = responses.n_agents
    share = counts.sum(axis=0) / counts.sum()
    per_item = ((counts * (counts - 1)).sum(axis=1)) / (n_raters * (n_raters - 1))
    observed, expected = per_item.mean(), (share**2).sum()
    value = safe_divide(np.asarray(observed - expected), np.asarray(1.0 - expected))
    return defined_or_warn(float(value), "fleiss_kappa", "every answer is the same label")


def krippendorff_alpha(responses: Responses, *, complete_only: bool = False) -> float:
    """Krippendorff's alpha (nominal) on the parsed answers; missing answers are allowed
    (Krippendorff 2011; equals ``krippendorff.alpha(..., level_of_measurement="nominal")``).

    NaN, with an `UndefinedMetricWarning`, when no item has two answers or every pairable
    answer is the same label.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(answers=[[0, 0], [1, 1], [0, 1]], gold=[0, 1, 0])
        >>> round(krippendorff_alpha(r), 3)
        0.444
    """
    responses = prepare(responses, "krippendorff_alpha", complete_only=complete_only)
    answers = require_answers(responses, "krippendorff_alpha")
    codes = np.where(responses.observed, answers, -1)
    counts = label_counts(codes, len(responses.labels)).astype(np.float64)
    pairable = counts.sum(axis=1)
    counts = counts[pairable >= 2]
    pairable = pairable[pairable >= 2]
    # Coincidences: o_ck = sum_u n_uc n_uk / (m_u - 1), without self-pairs on the diagonal.
    scaled = counts / (pairable - 1)[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    disagree_observed = n - np.trace(coincidence)
    disagree_expected = (n**2 - (n_c**2).sum()) / (n - 1) if n > 1 else 0.0
    value = 1.0 - safe_divide(np.asarray(disagree_observed), np.asarray(disagree_expected))
    return defined_or_warn(
        float(value),
        "krippendorff_alpha",
        "no item has two answers, or every pairable answer is the same label",
    )


def icc_from_sums(
    n_items: np.ndarray,
    total: np.ndarray,
    sum_row_squares: np.ndarray,
    column_sums: np.ndarray,
    n_agents: int,
) -> np.ndarray:
    """ICC(3,1) of binary errors from (weighted) sums, batched over leading axes.

    ``total`` = sum of all errors, ``sum_row_squares`` = sum over items of (errors per
    item)^2, ``column_sums`` = ``(..., n_agents)`` errors per agent; binary y has y^2 = y.
    NaN where undefined (fewer than 2 items, or no variance between items).
    """
    k = n_agents
    grand = n_items * k
    correction = safe_divide(total**2, grand)
    ss_total = total - correction
    ss_items = sum_row_squares / k - correction
    ss_agents = safe_divide((column_sums**2).sum(axis=-1), n_items) - correction
    ss_error = ss_total - ss_items - ss_agents
    ms_items = safe_divide(ss_items, n_items - 1)
    ms_error = safe_divide(ss_error, (n_items - 1) * (k - 1))
    return safe_divide(ms_items - ms_error, ms_items + (k - 1) * ms_error)


def _icc(responses: Responses) -> float:
    complete = responses.complete_only()
    errors = complete.errors
    per_item = errors.sum(axis=1)
    return float(
        icc_from_sums(
            np.asarray(float(complete.n_items)),
            per_item.sum(),
            (per_item**2).sum(),
            errors.sum(axis=0),
            complete.n_agents,
        )
    )


def _icc_reason(responses: Responses) -> str:
    """Why the ICC is undefined on these data, in the user's terms."""
    complete = responses.complete_only()
    if complete.n_items < 2:
        return f"{complete.n_items} item(s) were scored for every agent; it needs at least 2"
    errors = complete.errors
    if not errors.any():
        return "no agent made an error on the items every agent was scored on"
    if errors.all():
        return "every agent was wrong on every item every agent was scored on"
    return "the errors do not vary between items"


def icc(responses: Responses) -> float:
    """Intra-class correlation of errors, ICC(3,1) (Shrout & Fleiss 1979): the correlation
    between two agents' errors on the same item once each agent's own error rate is removed.

    Two-way ANOVA (items x agents) on the items every agent was scored on (always those,
    so it has no ``complete_only``). NaN, with an `UndefinedMetricWarning`, with fewer than
    2 such items or no variance.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 1, 0]])
        >>> round(icc(r), 3)
        0.333
    """
    responses = check_responses(responses, "icc")
    value = _icc(responses)
    return value if np.isfinite(value) else defined_or_warn(value, "icc", _icc_reason(responses))


def effective_agents(responses: Responses) -> float:
    """How many independent agents the swarm is worth: ``n / (1 + (n - 1) icc)`` (Kish's
    design effect applied to the agents' errors on an item).

    With ``icc <= 0`` there is no evidence of correlated errors and the result is ``n``
    (never more than the swarm has); `icc` itself keeps its negative value. NaN, with an
    `UndefinedMetricWarning`, where `icc` is undefined.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 1, 0]])
        >>> round(effective_agents(r), 3)
        1.8
    """
    responses = check_responses(responses, "effective_agents")
    value = float(kish_effective_agents(responses.n_agents, np.asarray(_icc(responses))))
    if np.isfinite(value):
        return value
    return defined_or_warn(value, "effective_agents", _icc_reason(responses))
