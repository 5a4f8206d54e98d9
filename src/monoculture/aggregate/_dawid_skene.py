"""Dawid–Skene (full confusion matrices) and one-coin Dawid–Skene, fitted by EM.

Dawid & Skene (1979), *Applied Statistics* 28(1):20–28, doi:10.2307/2346806; the one-coin
model as in Zhang, Chen, Zhou & Jordan (2016), *JMLR* 17. The iteration follows
crowd-kit 1.4 step by step (majority-vote initialisation, E-step, priors as the mean
posterior, M-step with probabilities floored at 1e-10, stop when the evidence lower
bound per answer gains less than ``tol``), so the two agree on the same data; the tests
check it. Both steps are two sparse products with the one-hot answers, ``(items, agents x
labels)``: no loop over items or agents.

With ``use_gold`` (the default) the training items whose gold is known keep their gold
label as the posterior throughout (crowd-kit's ``true_labels``); the held-out items are
decided by one E-step with the fitted priors and confusion matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from monoculture.aggregate._base import Aggregator, normalize_rows, weighted_votes
from monoculture.errors import ConvergenceWarning, InputError
from monoculture.responses import Responses

__all__ = ["DawidSkene", "OneCoinDawidSkene"]

_EPS = 1e-10


def answer_matrix(codes: np.ndarray, n_labels: int) -> sparse.csr_matrix:
    """``(n_items, n_agents * n_labels)`` one-hot answers: column ``a * K + l`` is 1 where
    agent ``a`` answered label ``l``.

    Built as CSR directly (row-major order of the answered cells is already sorted), with
    32-bit indices where they fit: no COO copy, about 12 bytes per answer.
    """
    n_items, n_agents = codes.shape
    index_type = np.int32 if n_agents * n_labels < 2**31 else np.int64
    answered = codes >= 0
    columns = np.arange(n_agents, dtype=index_type) * n_labels + codes.astype(index_type)
    indices = columns[answered]
    indptr = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(answered.sum(axis=1), out=indptr[1:])
    data = np.ones(len(indices))
    shape = (n_items, n_agents * n_labels)
    return sparse.csr_matrix((data, indices, indptr), shape=shape)


class DawidSkene(Aggregator):
    """Each agent has a confusion matrix ``e[a, observed, true]``; labels have priors.

    Args:
        n_iter: most EM iterations (crowd-kit's default, 100).
        tol: stop when the evidence lower bound per answer gains less than this.
        use_gold: fix the posterior of training items with known gold to their gold label.
        smoothing: pseudo-count added to every confusion-matrix cell at the M-step; 0 (as
            crowd-kit) lets an answer never seen in training from an agent veto that label
            on held-out items (probability 1e-10), so the default keeps a little.

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 1, 0], [0, 0, 0]], gold=[-1] * 3)
        >>> DawidSkene(use_gold=False).fit_predict(r).answer.tolist()
        [0, 1, 0]
    """

    name = "dawid_skene"

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        use_gold: bool = True,
        smoothing: float = 0.01,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0:
            raise InputError(f"{self.name}: `n_iter` must be an integer >= 0; got {n_iter!r}.")
        if not (isinstance(smoothing, int | float) and smoothing >= 0):
            raise InputError(f"{self.name}: `smoothing` must be >= 0; got {smoothing!r}.")
        self.n_iter = n_iter
        self.tol = float(tol)
        self.use_gold = use_gold
        self.smoothing = float(smoothing)
        self.priors_ = np.zeros(0)
        self.errors_ = np.zeros((0, 0, 0))
        self.loss_history_: list[float] = []
        self.posterior_ = np.zeros((0, 0))

    # ------------------------------------------------------------------ EM steps
    def _m_step(self, counts: np.ndarray) -> np.ndarray:
        """Confusion matrices from expected counts ``(agents, observed, true)``."""
        errors = np.maximum(counts + self.smoothing, _EPS)
        return np.asarray(errors / errors.sum(axis=1, keepdims=True), dtype=np.float64)

    @staticmethod
    def _e_step(answers: sparse.csr_matrix, priors: np.ndarray, errors: np.ndarray) -> np.ndarray:
        """Posterior over true labels ``(items, K)`` given priors and confusion matrices."""
        n_agents, n_labels, _ = errors.shape
        log_errors = np.log(errors).reshape(n_agents * n_labels, n_labels)
        log_likelihood = np.log(np.maximum(priors, _EPS)) + answers @ log_errors
        scaled = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True))
        return np.asarray(scaled / scaled.sum(axis=1, keepdims=True), dtype=np.float64)

    def _counts(self, answers: sparse.csr_matrix, posterior: np.ndarray) -> np.ndarray:
        n_labels = posterior.shape[1]
        counts = np.asarray(answers.T @ posterior)
        return counts.reshape(-1, n_labels, n_labels)

    def _lower_bound(
        self,
        counts: np.ndarray,
        votes_per_item: np.ndarray,
        posterior: np.ndarray,
        priors: np.ndarray,
        errors: np.ndarray,
    ) -> float:
        """crowd-kit's evidence lower bound: the expected joint log-likelihood, with the
        prior counted once per answer as crowd-kit does, plus the posterior's entropy."""
        joint = float((counts * np.log(errors)).sum())
        joint += float((votes_per_item @ posterior) @ np.log(np.maximum(priors, _EPS)))
        clipped = np.maximum(posterior, _EPS)
        return joint - float((clipped * np.log(clipped)).sum())

    def _fit(self, responses: Responses, codes: np.ndarray) -> None:
        n_labels = max(len(self.labels_), 1)
        voted = (codes >= 0).any(axis=1)
        codes = codes[voted]
        answers = answer_matrix(codes, n_labels)
        votes_per_item = (codes >= 0).sum(axis=1).astype(np.float64)
        gold = None
        if self.use_gold and responses.gold is not None:
            gold = responses.gold[voted]
        posterior = normalize_rows(weighted_votes(codes, np.ones(codes.shape[1]), n_labels))
        posterior = self._with_gold(posterior, gold)
        priors = posterior.mean(axis=0)
        errors = self._m_step(self._counts(answers, posterior))
        loss = -np.inf
        self.loss_history_ = []
        converged = self.n_iter == 0
        for _ in range(self.n_iter):
            posterior = self._with_gold(self._e_step(answers, priors, errors), gold)
            priors = posterior.mean(axis=0)
            counts = self._counts(answers, posterior)
            errors = self._m_step(counts)
            new_loss = self._lower_bound(counts, votes_per_item, posterior, priors, errors)
            new_loss /= max(float(votes_per_item.sum()), 1.0)
            self.loss_history_.append(new_loss)
            if new_loss - loss < self.tol:
                converged = True
                break
            loss = new_loss
        if not converged and np.isfinite(self.tol):  # tol=-inf asks for n_iter steps
            import warnings

            warnings.warn(
                f"{self.name}: EM did not converge in {self.n_iter} iterations (the lower "
                f"bound still gained >= {self.tol} per answer); raise n_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.priors_, self.errors_ = priors, errors
        self.posterior_ = posterior

    @staticmethod
    def _with_gold(posterior: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
        if gold is None:
            return posterior
        known = gold >= 0
        fixed = np.array(posterior)
        fixed[known] = 0.0
        fixed[np.flatnonzero(known), gold[known]] = 1.0
        return fixed

    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        del responses
        answers = answer_matrix(codes, max(len(self.labels_), 1))
        posterior = self._e_step(answers, self.priors_, self.errors_)
        voted = np.asarray((codes >= 0).any(axis=1))
        return np.where(voted[:, None], posterior, np.nan)

    # ------------------------------------------------------------------ persistence
    def _options(self) -> dict[str, Any]:
        return {
            "n_iter": self.n_iter,
            "tol": self.tol,
            "use_gold": self.use_gold,
            "smoothing": self.smoothing,
        }

    def _parameters(self) -> dict[str, Any]:
        return {"priors": self.priors_.tolist(), "errors": self.errors_.tolist()}

    def _restore(self, parameters: dict[str, Any]) -> None:
        self.priors_ = np.asarray(parameters["priors"], dtype=np.float64)
        self.errors_ = np.asarray(parameters["errors"], dtype=np.float64)


class OneCoinDawidSkene(DawidSkene):
    """Dawid–Skene with one skill per agent: right with probability ``s``, otherwise any
    of the ``K - 1`` wrong labels alike. Far fewer parameters than full confusion
    matrices, so it needs fewer training items.

    ``smoothing`` here is a pseudo-count of answers added half right, half wrong to each
    skill (0 = crowd-kit's estimate).

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 1, 0], [0, 0, 0]], gold=[-1] * 3)
        >>> OneCoinDawidSkene(use_gold=False).fit_predict(r).answer.tolist()
        [0, 1, 0]
    """

    name = "one_coin"

    def __init__(
        self,
        *,
        n_iter: int = 100,
        tol: float = 1e-5,
        use_gold: bool = True,
        smoothing: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__(n_iter=n_iter, tol=tol, use_gold=use_gold, smoothing=smoothing, seed=seed)
        self.skills_ = np.zeros(0)

    def _m_step(self, counts: np.ndarray) -> np.ndarray:
        """One skill per agent from the expected counts: the mass on its own answer."""
        n_labels = counts.shape[1]
        answered = counts.sum(axis=(1, 2))
        right = np.trace(counts, axis1=1, axis2=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            skills = (right + self.smoothing / 2) / (answered + self.smoothing)
        skills = np.where(answered + self.smoothing > 0, skills, 1.0 / n_labels)
        self.skills_ = skills
        wrong = (1.0 - skills) / max(n_labels - 1, 1)
        errors = np.broadcast_to(wrong[:, None, None], counts.shape).copy()
        diagonal = np.arange(n_labels)
        errors[:, diagonal, diagonal] = skills[:, None]
        return np.asarray(np.clip(errors, _EPS, 1 - _EPS), dtype=np.float64)

    def _parameters(self) -> dict[str, Any]:
        return {**super()._parameters(), "skills": self.skills_.tolist()}

    def _restore(self, parameters: dict[str, Any]) -> None:
        super()._restore(parameters)
        self.skills_ = np.asarray(parameters["skills"], dtype=np.float64)
