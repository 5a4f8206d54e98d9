"""The dissent a vote hides: for each item the consensus, the strongest dissenting answer,
and how many independent voices stand behind each.

Effective number of independent supporters of an answer: the agents ``S`` who gave it,
discounted by their error consistency, ``n_eff = |S|^2 / sum_{i,j in S} R_ij`` with
``R_ii = 1`` and ``R_ij = max(kappa_ij, 0)`` (undefined kappa counts as 0). It is the
effective sample size of a mean of equally correlated votes (Kish 1965): ``|S|`` when the
supporters err independently, 1 when they are copies.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monoculture.aggregate._base import answer_codes, weighted_votes
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.responses import Responses

__all__ = ["Dissent", "consistency_matrix", "effective_supporters", "minority_report"]


def consistency_matrix(responses: Responses) -> np.ndarray:
    """``R`` above: ``(n_agents, n_agents)`` error consistency floored at 0, NaN as 0, and
    1 on the diagonal."""
    from monoculture.metrics import error_consistency

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = error_consistency(responses).to_numpy(dtype=np.float64)
    matrix = np.where(np.isfinite(kappa), np.maximum(kappa, 0.0), 0.0)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def effective_supporters(supporters: np.ndarray, consistency: np.ndarray) -> np.ndarray:
    """``(n_items,)`` effective number of independent agents among ``supporters``
    (``(n_items, n_agents)`` bool or weights); 0 where an item has none.

    Example:
        >>> R = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # 0, 1 copies
        >>> effective_supporters(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1]]), R).tolist()
        [1.0, 2.0, 1.8]
    """
    s = np.asarray(supporters, dtype=np.float64)
    if consistency.shape != (s.shape[1], s.shape[1]):
        raise InputError(
            f"effective_supporters: `consistency` must be ({s.shape[1]}, {s.shape[1]}); got "
            f"{consistency.shape}."
        )
    quadratic = ((s @ consistency) * s).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(quadratic > 0, s.sum(axis=1) ** 2 / quadratic, 0.0)


@dataclass(frozen=True)
class Dissent:
    """Per item, the consensus and the strongest dissent (``(n_items,)`` arrays).

    Attributes:
        table: one row per item: ``item_id``, ``consensus``, ``consensus_support`` (share of
            voting agents), ``consensus_effective`` (effective independent supporters),
            ``dissent`` (the runner-up answer, empty where everyone agrees),
            ``dissent_support``, ``dissent_effective``, ``dissent_agents`` (names), and,
            where gold is known, ``consensus_correct`` and ``dissent_correct``.
    """

    table: pd.DataFrame

    def summary(self) -> dict[str, float]:
        """How often the dissent was right when the consensus was wrong, and how strong
        the dissent is on average."""
        t = self.table
        has_dissent = t["dissent"] != ""
        out = {
            "items": float(len(t)),
            "share_with_dissent": float(has_dissent.mean()) if len(t) else float("nan"),
            "mean_dissent_effective": float(t.loc[has_dissent, "dissent_effective"].mean())
            if has_dissent.any()
            else float("nan"),
        }
        if "consensus_correct" in t.columns:
            wrong = t["consensus_correct"] == 0
            out["consensus_wrong"] = float(wrong.sum())
            out["dissent_right_when_consensus_wrong"] = (
                float((t.loc[wrong, "dissent_correct"] == 1).mean())
                if wrong.any()
                else float("nan")
            )
        return out


def minority_report(responses: Responses, *, consistency: np.ndarray | None = None) -> Dissent:
    """The consensus (plurality; ties to the lower code here, reported as a tie in the
    support) and the strongest dissent on each item, with effective independent supporters.

    ``consistency`` is `consistency_matrix` of training items (learn it on other items than
    you report on); by default it is computed on ``responses`` itself.

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 0, 1, 1]], gold=[1])
        >>> row = minority_report(r).table.iloc[0]
        >>> row["consensus"], row["dissent"], float(row["dissent_support"])
        ('0', '1', 0.4)
    """
    codes = answer_codes(responses, "minority_report")
    if consistency is None:
        consistency = consistency_matrix(responses)
    n_labels = max(len(responses.labels), 1)
    counts = weighted_votes(codes, np.ones(codes.shape[1]), n_labels)
    order = np.argsort(-counts, axis=1, kind="stable")
    first, second = order[:, 0], order[:, 1] if n_labels > 1 else np.zeros(len(codes), int)
    rows = np.arange(len(codes))
    n_voting = counts.sum(axis=1)
    has_consensus = counts[rows, first] > 0
    has_dissent = (counts[rows, second] > 0) if n_labels > 1 else np.zeros(len(codes), bool)
    consensus_mask = (codes == first[:, None]) & has_consensus[:, None]
    dissent_mask = (codes == second[:, None]) & has_dissent[:, None]
    labels = np.asarray((*responses.labels, ""), dtype=object)
    agents = np.asarray(responses.agents, dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "item_id": np.asarray(responses.item_ids),
                "consensus": labels[np.where(has_consensus, first, -1)],
                "consensus_support": np.where(n_voting > 0, counts[rows, first] / n_voting, np.nan),
                "consensus_effective": effective_supporters(consensus_mask, consistency),
                "dissent": labels[np.where(has_dissent, second, -1)],
                "dissent_support": np.where(n_voting > 0, counts[rows, second] / n_voting, np.nan)
                if n_labels > 1
                else 0.0,
                "dissent_effective": effective_supporters(dissent_mask, consistency),
                "dissent_agents": [", ".join(agents[m]) for m in dissent_mask],
            }
        )
    if responses.gold is not None:
        known = responses.gold >= 0
        table["consensus_correct"] = np.where(
            known & has_consensus, (first == responses.gold).astype(float), np.nan
        )
        table["dissent_correct"] = np.where(
            known & has_dissent, (second == responses.gold).astype(float), np.nan
        )
        table.loc[known & ~has_consensus, "consensus_correct"] = 0.0
    return Dissent(table)
