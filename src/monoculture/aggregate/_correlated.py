"""Aggregators that count a bloc of near-copies once: cluster vote and covariance
weighting. Both learn who errs together from the training items only."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from monoculture.aggregate._base import Aggregator, normalize_rows, weighted_votes
from monoculture.aggregate._votes import (
    FALLBACK_WEIGHT,
    log_odds_weights,
    scored_on_gold,
    smoothed_accuracy,
)
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.responses import Responses

__all__ = ["MAX_CLUSTERS", "ClusterVote", "CovarianceWeighted", "ledoit_wolf"]

MAX_CLUSTERS = 10
"""Most clusters `ClusterVote` tries when it chooses their number."""


def ledoit_wolf(centered: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit–Wolf (2004) shrinkage of a covariance towards ``mu * I``.

    ``centered`` is ``(n_samples, n_features)`` with column means removed. Returns the
    shrunk covariance ``(1 - s) S + s mu I`` (``S`` the maximum-likelihood covariance,
    ``mu = trace(S) / p``) and the shrinkage ``s = min(b2 / d2, 1)`` of Ledoit & Wolf, "A
    well-conditioned estimator for large-dimensional covariance matrices", *J. Multivariate
    Analysis* 88 (2004), doi:10.1016/S0047-259X(03)00096-4 (the estimator
    scikit-learn's ``LedoitWolf`` computes).

    Example:
        >>> x = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
        >>> ledoit_wolf(x)[1]
        0.0
    """
    n, p = centered.shape
    sample = centered.T @ centered / n
    mu = float(np.trace(sample)) / p
    target_gap = sample - mu * np.eye(p)
    d2 = float((target_gap**2).sum())
    squares = centered**2
    # b2 = (1/n^2) sum_k ||x_k x_k' - S||_F^2, expanded so no (n, p, p) array is formed.
    b2 = float((squares.T @ squares).sum() / n - (sample**2).sum()) / n
    shrinkage = 0.0 if d2 == 0 else min(max(b2, 0.0) / d2, 1.0)
    return (1 - shrinkage) * sample + shrinkage * mu * np.eye(p), shrinkage


def _training_signs(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """``(v, scored)``: +1 right, -1 wrong where scored on an item with known gold, and the
    scored mask."""
    correct, scored = scored_on_gold(responses)
    return np.where(scored > 0, 2.0 * correct - 1.0, 0.0), scored


class CovarianceWeighted(Aggregator):
    """Weights ``w ∝ Σ⁻¹ m``: the linear combination of the agents' signed votes
    (+1 right, -1 wrong) with the largest mean margin per standard deviation (Fisher's
    discriminant), where ``m`` is each agent's mean signed vote (``2 accuracy - 1``) and
    ``Σ`` the Ledoit–Wolf-shrunk covariance of the signed votes on the training items.

    Independent agents get weights proportional to ``m_a / var_a``; two near-copies share
    about one agent's weight, because their covariance is about their variance. Missing
    cells are filled with the agent's mean (they add no covariance). Negative weights,
    which would vote against an agent's answer, are set to 0.

    Example:
        >>> bloc, other = [0, 1, 2, 1, 2, 0, 2, 1], [0, 1, 2, 0, 1, 2, 1, 0]
        >>> third = [0, 2, 2, 0, 1, 2, 0, 0]
        >>> answers = np.array([bloc, bloc, bloc, other, third]).T  # three copies, two others
        >>> train = Responses.from_arrays(answers=answers, gold=[0, 1, 2, 0, 1, 2, 0, 1])
        >>> CovarianceWeighted().fit(train).weights_.round(2).tolist()
        [0.07, 0.07, 0.07, 0.31, 0.47]
    """

    name = "covariance"
    needs_gold = True

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.weights_ = np.zeros(0)
        self.shrinkage_ = float("nan")

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        del codes
        signs, scored = _training_signs(responses)
        n_scored = scored.sum(axis=0)
        accuracy = smoothed_accuracy((signs > 0).astype(np.float64), scored)
        mean = 2.0 * accuracy - 1.0
        centered = np.where(scored > 0, signs - mean, 0.0)
        usable = scored.any(axis=1)
        if usable.sum() < 2:
            raise InputError(
                f"{self.name}: needs at least 2 training items with known gold; got "
                f"{int(usable.sum())}. Give more training items (a larger --split)."
            )
        covariance, self.shrinkage_ = ledoit_wolf(centered[usable])
        # An agent never scored has no variance estimate: give it the average one.
        floor = np.trace(covariance) / len(covariance) if len(covariance) else 1.0
        np.fill_diagonal(covariance, np.where(n_scored > 0, np.diag(covariance), floor))
        try:
            raw = np.linalg.solve(covariance, mean)
        except np.linalg.LinAlgError:
            raw = np.linalg.lstsq(covariance, mean, rcond=None)[0]
        weights = np.maximum(raw, 0.0)
        total = weights.sum()
        self.weights_ = weights / total if total > 0 else np.full(len(weights), 1 / len(weights))

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        del responses
        weights = self.weights_ + FALLBACK_WEIGHT
        return normalize_rows(weighted_votes(codes, weights, len(self.labels_)))

    def _parameters(self) -> dict[str, Any]:
        return {"weights": self.weights_.tolist(), "shrinkage": self.shrinkage_}

    def _restore(self, parameters: dict[str, Any]) -> None:
        self.weights_ = np.asarray(parameters["weights"], dtype=np.float64)
        self.shrinkage_ = float(parameters["shrinkage"])


class ClusterVote(Aggregator):
    """Agents clustered by error consistency on the training items; each cluster casts one
    vote, its members' plurality (a tie splits the vote evenly), weighted by the log-odds
    of that cluster vote's training accuracy (`log_odds_weights`).

    Args:
        n_clusters: how many clusters; None tries 2 to `MAX_CLUSTERS` and keeps the number
            whose cluster vote is most accurate on the training items (fewer on a tie).
            Silhouette, which `monoculture.metrics.cluster_agents` uses to describe a swarm,
            picks 2 clusters on MMLU-Pro and a vote no better than plurality.

    Example:
        >>> bloc, other = [0, 1, 2, 1, 2, 0, 2, 1], [0, 1, 2, 0, 1, 2, 1, 0]
        >>> third = [0, 2, 2, 0, 1, 2, 0, 0]
        >>> answers = np.array([bloc, bloc, bloc, other, third]).T  # three copies, two others
        >>> train = Responses.from_arrays(answers=answers, gold=[0, 1, 2, 0, 1, 2, 0, 1])
        >>> fitted = ClusterVote().fit(train)
        >>> fitted.clusters_.tolist(), fitted.weights_.round(2).tolist()
        ([1, 1, 1, 2, 2], [0.69, 1.54])
    """

    name = "cluster"
    needs_gold = True

    def __init__(self, *, n_clusters: int | None = None, seed: int = 0) -> None:
        super().__init__(seed=seed)
        if n_clusters is not None and (
            isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or n_clusters < 1
        ):
            raise InputError(
                f"{self.name}: `n_clusters` must be an integer >= 1; got {n_clusters!r}."
            )
        self.n_clusters = n_clusters
        self.clusters_ = np.zeros(0, dtype=int)
        self.weights_ = np.zeros(0)

    def _cluster_votes(self, codes: np.ndarray) -> np.ndarray:
        """``(n_items, n_clusters, n_labels)``: each cluster's vote, its internal plurality."""
        n_labels = max(len(self.labels_), 1)
        groups = np.unique(self.clusters_)
        votes = np.zeros((codes.shape[0], len(groups), n_labels))
        for g, group in enumerate(groups):  # a handful of clusters, not agents
            counts = weighted_votes(
                codes[:, self.clusters_ == group],
                np.ones(int((self.clusters_ == group).sum())),
                n_labels,
            )
            top = counts.max(axis=1, keepdims=True)
            winners = (counts == top) & (top > 0)
            votes[:, g] = winners / np.maximum(winners.sum(axis=1, keepdims=True), 1)
        return votes

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        from monoculture.metrics import cluster_agents, error_consistency

        with warnings.catch_warnings():
            # Undefined pairs (NaN) count as unrelated: cluster_agents reads NaN as 0.
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            consistency = error_consistency(responses)
        n = responses.n_agents
        if self.n_clusters is not None:
            candidates = [min(self.n_clusters, n)]
        else:
            candidates = list(range(2, min(MAX_CLUSTERS, n) + 1)) or [1]
        gold = responses.gold if responses.gold is not None else np.full(len(codes), -1)
        known = np.flatnonzero(gold >= 0)
        best = -np.inf
        for k in candidates:  # a few cuts of one small agent x agent clustering
            clusters = np.asarray(
                cluster_agents(consistency, n_clusters=k).labels.to_numpy(), dtype=int
            )
            self.clusters_ = clusters
            votes = self._cluster_votes(codes)
            # Expected credit of each cluster's vote on the known items; no vote = wrong.
            credit = votes[known, :, gold[known]]
            accuracy = (credit.sum(axis=0) + 1.0) / (len(known) + 2.0)
            weights = log_odds_weights(accuracy, len(self.labels_))
            self.weights_ = weights
            fitted = self._scores(responses, codes)[known]
            value = float((fitted.argmax(axis=1) == gold[known]).mean()) if len(known) else 0.0
            if value > best + 1e-12:
                best, chosen = value, (clusters, weights)
        self.clusters_, self.weights_ = chosen

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        del responses
        votes = self._cluster_votes(codes)
        return normalize_rows(np.einsum("icl,c->il", votes, self.weights_ + FALLBACK_WEIGHT))

    def _options(self) -> dict[str, Any]:
        return {"n_clusters": self.n_clusters}

    def _parameters(self) -> dict[str, Any]:
        return {"clusters": self.clusters_.tolist(), "weights": self.weights_.tolist()}

    def _restore(self, parameters: dict[str, Any]) -> None:
        self.clusters_ = np.asarray(parameters["clusters"], dtype=int)
        self.weights_ = np.asarray(parameters["weights"], dtype=np.float64)
