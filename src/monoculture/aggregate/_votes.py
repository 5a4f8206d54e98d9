"""Plurality and the accuracy-weighted vote (Nitzan–Paroush log-odds weights)."""

from __future__ import annotations

from typing import Any

import numpy as np

from monoculture.aggregate._base import Aggregator, normalize_rows, weighted_votes
from monoculture.responses import Responses

__all__ = ["Plurality", "WeightedVote", "log_odds_weights", "smoothed_accuracy"]

FALLBACK_WEIGHT = 1e-9
"""Added to every learned weight so that agents weighted 0 still break a tie among
themselves (too small to outvote any agent with a positive weight)."""


def smoothed_accuracy(correct: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """``(n_agents,)`` accuracy with Laplace's rule, ``(right + 1) / (scored + 2)``: an agent
    right on all of few training items gets a large but finite weight, not an infinite one.

    ``correct`` and ``scored`` are ``(n_items, n_agents)``; unparsed answers on scored
    items count as wrong.
    """
    right = (correct * scored).sum(axis=0)
    return np.asarray((right + 1.0) / (scored.sum(axis=0) + 2.0), dtype=np.float64)


def log_odds_weights(accuracy: np.ndarray, n_labels: int) -> np.ndarray:
    """Nitzan & Paroush (1982) weights ``log(p (K - 1) / (1 - p))``, optimal for
    independent agents whose errors spread evenly over the ``K - 1`` wrong labels
    (Ben-Yashar & Paroush 2001). An agent no better than chance (``p <= 1/K``) gets 0: a
    negative weight would vote against its answer, which means nothing with several
    wrong labels.

    Example:
        >>> log_odds_weights(np.array([0.5, 0.25, 0.9]), 4).round(3).tolist()
        [1.099, 0.0, 3.296]
    """
    k = max(n_labels, 2)
    p = np.clip(accuracy, 1e-12, 1 - 1e-12)
    return np.asarray(np.maximum(np.log(p * (k - 1) / (1 - p)), 0.0), dtype=np.float64)


def scored_on_gold(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """``(correct, scored)`` as float arrays over the items whose gold is known."""
    known = np.ones(responses.n_items, dtype=bool)
    if responses.gold is not None:
        known = responses.gold >= 0
    scored = (responses.observed & known[:, None]).astype(np.float64)
    return responses.correct.astype(np.float64), scored


class Plurality(Aggregator):
    """The most common answer; ties broken at random (seeded). Nothing to learn.

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [2, 1, 1]], gold=[0, 2])
        >>> Plurality().fit_predict(r).answer.tolist()
        [0, 1]
    """

    name = "plurality"

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        del responses, codes

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        del responses
        return normalize_rows(weighted_votes(codes, np.ones(codes.shape[1]), len(self.labels_)))


class WeightedVote(Aggregator):
    """Votes weighted by each agent's training accuracy through `log_odds_weights`.

    Optimal when agents err independently; a bloc of near-copies is counted once per
    member, which is what the correlation-aware rules correct.

    Example:
        >>> train = Responses.from_arrays(answers=[[0, 1, 1], [1, 0, 0]], gold=[0, 1])
        >>> WeightedVote().fit(train).weights_.round(3).tolist()
        [1.099, 0.0, 0.0]
    """

    name = "weighted"
    needs_gold = True

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.weights_ = np.zeros(0)

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        del codes
        correct, scored = scored_on_gold(responses)
        self.weights_ = log_odds_weights(smoothed_accuracy(correct, scored), len(self.labels_))

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        del responses
        # A sliver of weight for everyone: where only zero-weight agents voted, their
        # plurality decides instead of no decision at all.
        weights = self.weights_ + FALLBACK_WEIGHT
        return normalize_rows(weighted_votes(codes, weights, len(self.labels_)))

    def _parameters(self) -> dict[str, Any]:
        return {"weights": self.weights_.tolist()}

    def _restore(self, parameters: dict[str, Any]) -> None:
        self.weights_ = np.asarray(parameters["weights"], dtype=np.float64)
