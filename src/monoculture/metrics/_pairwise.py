"""Pairwise measures of correlated failure, as agent x agent matrices.

Every pair is scored on the items both agents were scored on, marginals included, so the
error consistency of a pair equals scikit-learn's ``cohen_kappa_score`` on those items. All
pairs come from a few matrix products of indicator matrices; no loop over pairs.

For a pair (i, j) on its ``n`` shared items, with ``a`` items where i is wrong, ``b`` where
j is wrong and ``d`` where both are wrong, and accuracies ``p_i = 1 - a/n``, ``p_j = 1 - b/n``:

- observed agreement ``c_obs = (n - a - b + 2d) / n``; expected under independence
  ``c_exp = p_i p_j + (1 - p_i)(1 - p_j)``;
- error consistency ``kappa = (c_obs - c_exp) / (1 - c_exp)`` (Geirhos et al., NeurIPS 2020,
  arXiv:2006.16736);
- the bounds of kappa given both accuracies, kappa normalised by them, the copy probability
  and a p-value against independent agents (Klein et al., NeurIPS 2025;
  github.com/wichmann-lab/error_consistency);
- double-fault rate ``d / n``; conditional failure ``P(j wrong | i wrong) = d / a``;
  Yule's Q and the phi correlation of the error indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from monoculture.metrics._arrays import agent_frame, safe_divide
from monoculture.metrics._products import count_dtype, cross_counts, one_hot_counts
from monoculture.metrics._validate import prepare, require_answers, warn_undefined_because
from monoculture.responses import Responses

__all__ = [
    "PairCounts",
    "conditional_failure",
    "copy_probability",
    "double_fault",
    "error_consistency",
    "error_consistency_pvalue",
    "error_phi",
    "kappa_bounds",
    "normalized_error_consistency",
    "pair_counts",
    "pairwise_metrics",
    "same_wrong_rate",
    "yules_q",
]


@dataclass(frozen=True)
class PairCounts:
    """Counts per pair over the items both agents were scored on, ``(..., A, A)``.

    Attributes:
        n: shared items. ``wrong_i``: items where the row agent is wrong (of the shared).
        wrong_j: items where the column agent is wrong. ``both_wrong``: both wrong.

    Quantities several metrics share (accuracies, chance agreement, kappa) are computed
    once per instance and cached.

    Example:
        >>> c = PairCounts(np.array(4.0), np.array(2.0), np.array(2.0), np.array(2.0))
        >>> float(c.kappa)  # always wrong together: perfect consistency
        1.0
    """

    n: np.ndarray
    wrong_i: np.ndarray
    wrong_j: np.ndarray
    both_wrong: np.ndarray

    @cached_property
    def accuracy_i(self) -> np.ndarray:
        return 1.0 - safe_divide(self.wrong_i, self.n)

    @cached_property
    def accuracy_j(self) -> np.ndarray:
        return 1.0 - safe_divide(self.wrong_j, self.n)

    @cached_property
    def expected(self) -> np.ndarray:
        """Chance agreement of independent agents with these accuracies."""
        return _expected_agreement(self.accuracy_i, self.accuracy_j)

    @cached_property
    def kappa(self) -> np.ndarray:
        observed = safe_divide(self.n - self.wrong_i - self.wrong_j + 2.0 * self.both_wrong, self.n)
        return safe_divide(observed - self.expected, 1.0 - self.expected)


def _counts_from_arrays(errors: np.ndarray, observed: np.ndarray) -> PairCounts:
    both_wrong = cross_counts(errors)
    if observed.min(initial=1) == 1:
        n_items = observed.shape[0]
        n = np.full(both_wrong.shape, float(n_items))
        per_agent = errors.sum(axis=0, dtype=np.float64)
        wrong_i = np.broadcast_to(per_agent[:, None], both_wrong.shape).astype(np.float64)
    else:
        n = cross_counts(observed)
        wrong_i = cross_counts(errors, observed)
    return PairCounts(
        n=n, wrong_i=wrong_i, wrong_j=np.swapaxes(wrong_i, -1, -2), both_wrong=both_wrong
    )


def pair_counts(responses: Responses, *, complete_only: bool = False) -> PairCounts:
    """Shared-item counts for every pair of agents (three matrix products at most).

    Example:
        >>> from monoculture import Responses
        >>> c = pair_counts(Responses.from_arrays(correct=[[1, 0], [0, 0], [1, float("nan")]]))
        >>> c.n[0, 1], c.both_wrong[0, 1]
        (np.float64(2.0), np.float64(1.0))
    """
    responses = prepare(responses, "pair_counts", complete_only=complete_only)
    # Built in the counting dtype straight away: at 1,000 agents x 100,000 items a float64
    # copy alone would take 800 MB.
    dtype = count_dtype(responses.n_items)
    errors = ((responses.correct == 0) & responses.observed).astype(dtype)
    return _counts_from_arrays(errors, responses.observed.astype(dtype))


# --------------------------------------------------------------------------- kernels
# Each kernel takes count arrays of any matching shape (a leading batch axis for the
# bootstrap included) and returns NaN where the statistic is undefined.
def _expected_agreement(p_i: np.ndarray, p_j: np.ndarray) -> np.ndarray:
    return np.asarray(p_i * p_j + (1.0 - p_i) * (1.0 - p_j))


def kappa_kernel(c: PairCounts) -> np.ndarray:
    """Cohen's kappa on correct/incorrect from pair counts."""
    return c.kappa


def _kappa_bounds_kernel(c: PairCounts) -> tuple[np.ndarray, np.ndarray]:
    p_i, p_j, expected = c.accuracy_i, c.accuracy_j, c.expected
    most = np.minimum(p_i, p_j) + np.minimum(1.0 - p_i, 1.0 - p_j)
    least = 1.0 - (np.minimum(p_i, 1.0 - p_j) + np.minimum(1.0 - p_i, p_j))
    return safe_divide(least - expected, 1.0 - expected), safe_divide(
        most - expected, 1.0 - expected
    )


def _normalized_kernel(
    c: PairCounts, bounds: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    low, high = bounds or _kappa_bounds_kernel(c)
    return np.where(c.kappa >= 0, safe_divide(c.kappa, high), safe_divide(c.kappa, -low))


def _pvalue_kernel(c: PairCounts) -> np.ndarray:
    # Two-sided z-test of kappa = 0 with the null variance of Fleiss, Cohen & Everitt
    # (1969), the test statsmodels' cohens_kappa reports; vectorised for 2 x 2 tables.
    p_i, p_j, expected = c.accuracy_i, c.accuracy_j, c.expected
    marg = p_i * p_j * (p_i + p_j) + (1 - p_i) * (1 - p_j) * ((1 - p_i) + (1 - p_j))
    var0 = safe_divide(expected + expected**2 - marg, (1.0 - expected) ** 2 * c.n)
    z = safe_divide(c.kappa, np.sqrt(np.where(var0 > 0, var0, np.nan)))
    return np.asarray(2.0 * stats.norm.sf(np.abs(z)))


def _copy_probability_kernel(c: PairCounts) -> np.ndarray:
    # Copy model: one agent copies the more accurate one with probability cp, otherwise
    # answers independently; cp = kappa (1 - c_exp) / (1 - c_exp(source, source)).
    source = np.maximum(c.accuracy_i, c.accuracy_j)
    self_agreement = _expected_agreement(source, source)
    return np.asarray(c.kappa * safe_divide(1.0 - c.expected, 1.0 - self_agreement))


def _yules_q_kernel(c: PairCounts) -> np.ndarray:
    both_right = c.n - c.wrong_i - c.wrong_j + c.both_wrong
    concordant = c.both_wrong * both_right
    discordant = (c.wrong_i - c.both_wrong) * (c.wrong_j - c.both_wrong)
    return safe_divide(concordant - discordant, concordant + discordant)


def _phi_kernel(c: PairCounts) -> np.ndarray:
    spread = c.wrong_i * (c.n - c.wrong_i) * c.wrong_j * (c.n - c.wrong_j)
    return safe_divide(c.both_wrong * c.n - c.wrong_i * c.wrong_j, np.sqrt(spread))


# --------------------------------------------------------------------------- public
def _counts(
    responses: Responses, complete_only: bool, function: str
) -> tuple[Responses, PairCounts]:
    responses = prepare(responses, function, complete_only=complete_only)
    return responses, pair_counts(responses)


_EXAMPLE = [[1, 1], [0, 0], [1, 0], [0, 0], [1, 1], [0, 1]]
"""Six items, two agents: both wrong on 2, each alone on 1 (accuracies 1/2 and 1/2)."""


def error_consistency(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Error consistency (Cohen's kappa on correct/incorrect) for every pair of agents.

    Returns an ``(n_agents, n_agents)`` DataFrame; NaN where undefined (fewer than one
    shared item, or an agent always right or always wrong on the shared items).

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[1, 1], [0, 0], [1, 0], [0, 0]])
        >>> round(float(error_consistency(r).iloc[0, 1]), 3)
        0.5
    """
    responses, counts = _counts(responses, complete_only, "error_consistency")
    return agent_frame(kappa_kernel(counts), responses, "error_consistency")


def kappa_bounds(
    responses: Responses, *, complete_only: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The least and greatest error consistency two agents with these accuracies can have.

    Returns ``(kappa_min, kappa_max)`` matrices (Klein et al., NeurIPS 2025).

    Example:
        >>> from monoculture import Responses
        >>> low, high = kappa_bounds(Responses.from_arrays(correct=_EXAMPLE))
        >>> float(low.iloc[0, 1]), float(high.iloc[0, 1])  # equal accuracies: -1 to 1
        (-1.0, 1.0)
    """
    responses, counts = _counts(responses, complete_only, "kappa_bounds")
    low, high = _kappa_bounds_kernel(counts)
    return agent_frame(low, responses, "kappa_min"), agent_frame(high, responses, "kappa_max")


def normalized_error_consistency(
    responses: Responses, *, complete_only: bool = False
) -> pd.DataFrame:
    """Error consistency divided by its bound: ``kappa / kappa_max`` when ``kappa >= 0``,
    ``kappa / |kappa_min|`` otherwise, so 1 means as consistent as the accuracies allow.

    Example:
        >>> from monoculture import Responses
        >>> m = normalized_error_consistency(Responses.from_arrays(correct=_EXAMPLE))
        >>> round(float(m.iloc[0, 1]), 4)
        0.3333
    """
    responses, counts = _counts(responses, complete_only, "normalized_error_consistency")
    return agent_frame(_normalized_kernel(counts), responses, "normalized_error_consistency")


def error_consistency_pvalue(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Two-sided p-value of each pair's error consistency against independent agents with
    the same accuracies (z-test with the null variance of Fleiss, Cohen & Everitt 1969).

    Example:
        >>> from monoculture import Responses
        >>> p = error_consistency_pvalue(Responses.from_arrays(correct=_EXAMPLE))
        >>> round(float(p.iloc[0, 1]), 4)  # z = 1/3 * sqrt(6): statsmodels' cohens_kappa
        0.4142
    """
    responses, counts = _counts(responses, complete_only, "error_consistency_pvalue")
    return agent_frame(_pvalue_kernel(counts), responses, "error_consistency_pvalue")


def copy_probability(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Probability that one agent copies the other's correctness (Klein et al., 2025).

    Reads kappa through a copy model: the less accurate agent copies the outcome of the
    more accurate one with this probability and otherwise answers independently.

    Example:
        >>> from monoculture import Responses
        >>> round(float(copy_probability(Responses.from_arrays(correct=_EXAMPLE)).iloc[0, 1]), 4)
        0.3333
    """
    responses, counts = _counts(responses, complete_only, "copy_probability")
    return agent_frame(_copy_probability_kernel(counts), responses, "copy_probability")


def double_fault(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Share of shared items on which both agents are wrong (Giacinto & Roli, 2001).

    Example:
        >>> from monoculture import Responses
        >>> round(float(double_fault(Responses.from_arrays(correct=_EXAMPLE)).iloc[0, 1]), 4)
        0.3333
    """
    responses, counts = _counts(responses, complete_only, "double_fault")
    return agent_frame(safe_divide(counts.both_wrong, counts.n), responses, "double_fault")


def conditional_failure(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """``P(column agent wrong | row agent wrong)`` on shared items; not symmetric.

    Example:
        >>> from monoculture import Responses
        >>> round(float(conditional_failure(Responses.from_arrays(correct=_EXAMPLE)).iloc[0, 1]), 4)
        0.6667
    """
    responses, counts = _counts(responses, complete_only, "conditional_failure")
    return agent_frame(
        safe_divide(counts.both_wrong, counts.wrong_i), responses, "conditional_failure"
    )


def yules_q(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Yule's Q of the 2 x 2 table of errors (Kuncheva & Whitaker, 2003).

    Example:
        >>> from monoculture import Responses
        >>> float(yules_q(Responses.from_arrays(correct=_EXAMPLE)).iloc[0, 1])  # (4-1)/(4+1)
        0.6
    """
    responses, counts = _counts(responses, complete_only, "yules_q")
    return agent_frame(_yules_q_kernel(counts), responses, "yules_q")


def error_phi(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """Pearson (phi) correlation of the two agents' error indicators on shared items.

    Example:
        >>> from monoculture import Responses
        >>> round(float(error_phi(Responses.from_arrays(correct=_EXAMPLE)).iloc[0, 1]), 4)
        0.3333
    """
    responses, counts = _counts(responses, complete_only, "error_phi")
    return agent_frame(_phi_kernel(counts), responses, "error_phi")


def same_wrong_counts(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """``(same, both)``: items where both gave a wrong parsed answer, and where it was the
    same one. Unparsed answers are errors but have no label, so they are left out here."""
    answers = require_answers(responses, "same_wrong_rate")
    wrong_answered = (responses.correct == 0) & responses.observed & (answers >= 0)
    both = cross_counts(wrong_answered)
    codes = np.where(wrong_answered, answers, -1)
    same = one_hot_counts(codes, max(1, len(responses.labels)))
    return same, both


def same_wrong_rate(responses: Responses, *, complete_only: bool = False) -> pd.DataFrame:
    """``P(same answer | both wrong)`` over items where both gave a wrong, parsed answer
    (Kim et al., 2025, "Correlated errors in large language models").

    Independent errors spread uniformly over the wrong options would give
    ``1 / (n_options - 1)``.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(answers=[[1, 1], [2, 1], [0, 2]], gold=[0, 0, 0])
        >>> float(same_wrong_rate(r).iloc[0, 1])  # both wrong on 2 items, alike on 1
        0.5
    """
    responses = prepare(responses, "same_wrong_rate", complete_only=complete_only)
    same, both = same_wrong_counts(responses)
    return agent_frame(safe_divide(same, both), responses, "same_wrong_rate")


def pairwise_metrics(
    responses: Responses, *, complete_only: bool = False
) -> dict[str, pd.DataFrame]:
    """Every pairwise matrix at once, sharing one set of counts.

    Keys: ``error_consistency``, ``kappa_min``, ``kappa_max``, ``normalized_error_consistency``,
    ``error_consistency_pvalue``, ``copy_probability``, ``double_fault``,
    ``conditional_failure``, ``yules_q``, ``error_phi``, ``shared_items``, and
    ``same_wrong_rate`` when answers are known.

    Example:
        >>> from monoculture import Responses
        >>> m = pairwise_metrics(Responses.from_arrays(correct=_EXAMPLE))
        >>> round(float(m["error_consistency"].iloc[0, 1]), 4), float(m["shared_items"].iloc[0, 1])
        (0.3333, 6.0)
    """
    responses, c = _counts(responses, complete_only, "pairwise_metrics")
    low, high = _kappa_bounds_kernel(c)
    matrices = {
        "error_consistency": c.kappa,
        "kappa_min": low,
        "kappa_max": high,
        "normalized_error_consistency": _normalized_kernel(c, (low, high)),
        "error_consistency_pvalue": _pvalue_kernel(c),
        "copy_probability": _copy_probability_kernel(c),
        "double_fault": safe_divide(c.both_wrong, c.n),
        "conditional_failure": safe_divide(c.both_wrong, c.wrong_i),
        "yules_q": _yules_q_kernel(c),
        "error_phi": _phi_kernel(c),
        "shared_items": c.n,
    }
    if responses.answers is not None:
        same, both = same_wrong_counts(responses)
        matrices["same_wrong_rate"] = safe_divide(same, both)
    undefined = {name: int(np.isnan(m).sum()) for name, m in matrices.items() if np.isnan(m).any()}
    if undefined:
        warn_undefined_because(
            "pairwise_metrics",
            f"some cells, {undefined} by matrix: too few shared items, or an agent always "
            "right or always wrong on them",
        )
    return {name: agent_frame(matrix, responses) for name, matrix in matrices.items()}
