"""Agreement of the whole swarm: Fleiss' kappa, Krippendorff's alpha on answers, and the
intra-class correlation of errors with the effective number of independent agents."""

from __future__ import annotations

import numpy as np

from monoculture.errors import InputError
from monoculture.metrics._validate import check_responses, require_answers
from monoculture.responses import Responses

__all__ = ["effective_agents", "fleiss_kappa", "icc", "krippendorff_alpha"]


def _answer_counts(responses: Responses, rows: np.ndarray) -> np.ndarray:
    assert responses.answers is not None
    codes = np.where(responses.observed, responses.answers, -1)[rows]
    n_labels = max(1, len(responses.labels))
    items, agents = np.nonzero(codes >= 0)
    flat = items * n_labels + codes[items, agents]
    return np.bincount(flat, minlength=codes.shape[0] * n_labels).reshape(-1, n_labels)


def fleiss_kappa(responses: Responses) -> float:
    """Fleiss' kappa on the answers, over items on which every agent gave a parsed answer
    (Fleiss 1971; equals statsmodels ``fleiss_kappa(table, method="fleiss")``)."""
    responses = check_responses(responses, "fleiss_kappa")
    require_answers(responses, "fleiss_kappa")
    assert responses.answers is not None
    rows = np.flatnonzero((responses.observed & (responses.answers >= 0)).all(axis=1))
    if len(rows) == 0:
        raise InputError("fleiss_kappa: no item has a parsed answer from every agent.")
    counts = _answer_counts(responses, rows).astype(np.float64)
    n_raters = responses.n_agents
    share = counts.sum(axis=0) / counts.sum()
    per_item = ((counts * (counts - 1)).sum(axis=1)) / (n_raters * (n_raters - 1))
    observed, expected = per_item.mean(), (share**2).sum()
    return float((observed - expected) / (1.0 - expected)) if expected < 1 else float("nan")


def krippendorff_alpha(responses: Responses) -> float:
    """Krippendorff's alpha (nominal) on the parsed answers; missing answers are allowed
    (Krippendorff 2011; equals ``krippendorff.alpha(..., level_of_measurement="nominal")``)."""
    responses = check_responses(responses, "krippendorff_alpha")
    require_answers(responses, "krippendorff_alpha")
    counts = _answer_counts(responses, np.arange(responses.n_items)).astype(np.float64)
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
    if disagree_expected == 0:
        return float("nan")
    return float(1.0 - disagree_observed / disagree_expected)


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
    """
    k = n_agents
    grand = n_items * k
    correction = total**2 / grand
    ss_total = total - correction
    ss_items = sum_row_squares / k - correction
    ss_agents = (column_sums**2).sum(axis=-1) / n_items - correction
    ss_error = ss_total - ss_items - ss_agents
    ms_items = ss_items / (n_items - 1)
    ms_error = ss_error / ((n_items - 1) * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = ms_items + (k - 1) * ms_error
        return np.where(denominator > 0, (ms_items - ms_error) / denominator, np.nan)


def icc(responses: Responses) -> float:
    """Intra-class correlation of errors, ICC(3,1) (Shrout & Fleiss 1979): the correlation
    between two agents' errors on the same item once each agent's own error rate is removed.

    Two-way ANOVA (items x agents) on the items every agent was scored on.
    """
    responses = check_responses(responses, "icc")
    complete = responses.complete_only()
    if complete.n_items < 2:
        raise InputError("icc: needs at least 2 items scored for every agent.")
    errors = complete.errors
    per_item = errors.sum(axis=1)
    value = icc_from_sums(
        np.asarray(float(complete.n_items)),
        per_item.sum(),
        (per_item**2).sum(),
        errors.sum(axis=0),
        complete.n_agents,
    )
    return float(value)


def effective_agents(responses: Responses) -> float:
    """How many independent agents the swarm is worth: ``n / (1 + (n - 1) icc)``
    (Kish's design effect applied to the agents' errors on an item)."""
    responses = check_responses(responses, "effective_agents")
    n = responses.n_agents
    return float(n / (1.0 + (n - 1) * icc(responses)))
