"""The surprisingly popular answer (Prelec, Seung & McCoy, "A solution to the single-question
crowd wisdom problem", *Nature* 541 (2017) 532–535, doi:10.1038/nature21054).

Each agent answers and also predicts what share of the other agents will choose each
option. The answer chosen more often than the agents predicted wins: an informed minority
that knows the majority will disagree makes its answer "surprisingly popular" even when it
loses the vote. The predictions are the long table's ``predicted_shares`` column: per row a
JSON object ``{"A": 0.6, "B": 0.4}`` (or a list in label order); the experiment runner
writes it when an experiment sets ``predictions = true``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from monoculture.aggregate._base import Aggregator, weighted_votes
from monoculture.errors import InputError
from monoculture.responses import Responses

__all__ = ["PREDICTION_COLUMN", "SurprisinglyPopular", "predicted_shares"]

PREDICTION_COLUMN = "predicted_shares"


def _parse_cell(value: Any, labels: Sequence[str], where: str) -> np.ndarray:
    """One agent's predicted shares as a distribution over ``labels`` (NaN if absent)."""
    out = np.full(len(labels), np.nan)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return out
    parsed = json.loads(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        unknown = sorted(set(map(str, parsed)) - set(labels))
        if unknown:
            raise InputError(
                f"{PREDICTION_COLUMN} at {where}: options {unknown[:3]} are not answer labels "
                f"{list(labels)[:10]}; name the options as the answers do."
            )
        shares = np.array([float(parsed.get(label, 0.0)) for label in labels])
    elif isinstance(parsed, list) and len(parsed) == len(labels):
        shares = np.asarray(parsed, dtype=np.float64)
    else:
        raise InputError(
            f"{PREDICTION_COLUMN} at {where}: expected a JSON object option -> share or a "
            f"list of {len(labels)} shares; got {str(value)[:60]!r}."
        )
    total = shares.sum()
    if not np.all(np.isfinite(shares)) or (shares < 0).any() or total <= 0:
        raise InputError(
            f"{PREDICTION_COLUMN} at {where}: shares must be finite, >= 0 and not all 0; got "
            f"{str(value)[:60]!r}."
        )
    return np.asarray(shares / total, dtype=np.float64)


def predicted_shares(responses: Responses) -> np.ndarray:
    """``(n_items, n_agents, n_labels)`` each agent's predicted answer shares (normalised
    to sum to 1), NaN where the agent gave no prediction.

    Raises `InputError` when the `Responses` has no ``predicted_shares`` column.
    """
    labels = responses.labels
    if PREDICTION_COLUMN in responses.cell_attrs:
        cells = responses.cell_attrs[PREDICTION_COLUMN]
    elif PREDICTION_COLUMN in responses.item_attrs.columns:
        column = responses.item_attrs[PREDICTION_COLUMN].to_numpy(dtype=object)
        cells = np.repeat(column[:, None], responses.n_agents, axis=1)
    else:
        raise InputError(
            "surprisingly_popular: needs each agent's prediction of the others' answers, a "
            f"`{PREDICTION_COLUMN}` column (JSON object option -> share per row); run the "
            "experiment with `predictions = true`, or drop this method."
        )
    out = np.full((responses.n_items, responses.n_agents, len(labels)), np.nan)
    for i, a in zip(*np.nonzero(responses.observed), strict=True):
        where = f"item {responses.item_ids[i]!r}, agent {responses.agents[a]!r}"
        out[i, a] = _parse_cell(cells[i, a], labels, where)
    return out


class SurprisinglyPopular(Aggregator):
    """Chooses the option whose vote share most exceeds its mean predicted share:
    ``argmax_k (x_k - ybar_k)``, ``x`` the share of votes, ``ybar`` the agents' mean
    prediction (the difference form; with two options it is the paper's rule). Nothing is
    learned. The score per option is the positive surprise, normalised; where no option is
    surprising (predictions exactly right) it falls back to the vote shares.

    Example:
        >>> votes = [[0, 0, 0, 1, 1]]  # 3 say "yes", 2 say "no"
        >>> shares = [['{"yes": 0.9, "no": 0.1}'] * 3 + ['{"yes": 0.8, "no": 0.2}'] * 2]
        >>> r = Responses.from_arrays(answers=votes, gold=[1], labels=["yes", "no"],
        ...     cell_attrs={"predicted_shares": np.array(shares, dtype=object)})
        >>> r.labels[SurprisinglyPopular().fit_predict(r).answer[0]]
        'no'
    """

    name = "surprisingly_popular"

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        del codes
        predicted_shares(responses)  # fail now, not at predict, when the column is absent

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        n_labels = max(len(self.labels_), 1)
        votes = weighted_votes(codes, np.ones(codes.shape[1]), n_labels)
        n_votes = votes.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = votes / n_votes
        predicted = predicted_shares(responses)
        has_prediction = np.isfinite(predicted).all(axis=2)
        count = has_prediction.sum(axis=1)
        mean_prediction = np.where(has_prediction[..., None], predicted, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_prediction = mean_prediction / count[:, None]
        surprise = np.maximum(share - mean_prediction, 0.0)
        total = surprise.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(total > 1e-12, surprise / total, share)
        # Without any prediction on an item, the vote decides.
        return np.asarray(np.where((count > 0)[:, None], scores, share), dtype=np.float64)
