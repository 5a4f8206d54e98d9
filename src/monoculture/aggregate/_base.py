"""The aggregator contract (fit on training items, predict held-out ones, save and load)
and the vectorised vote kernels every voting rule shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from monoculture.aggregate._decisions import Decisions
from monoculture.errors import InputError
from monoculture.responses import Responses

__all__ = ["Aggregator", "decide", "one_hot_votes", "weighted_votes"]

FORMAT_VERSION = 1


def answer_codes(responses: Responses, method: str) -> np.ndarray:
    """``(n_items, n_agents)`` answer codes with -1 wherever the agent gave no parsed answer."""
    if responses.answers is None:
        raise InputError(
            f"{method}: needs the agents' answers, not only correctness; give an answer "
            "column (the long table's `answer`) so the votes can be counted."
        )
    return np.where(responses.observed, responses.answers, -1)


def one_hot_votes(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n_items, n_agents, n_labels)`` float64, 1 where the agent chose the label."""
    out = np.zeros((*codes.shape, max(n_labels, 1)))
    items, agents = np.nonzero(codes >= 0)
    out[items, agents, codes[items, agents]] = 1.0
    return out


def weighted_votes(codes: np.ndarray, weights: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n_items, n_labels)``: the weight behind each label, ``sum_a w_a [code_ia = l]``.

    One bincount over the answered cells, so memory stays ``O(cells)``.
    """
    n_items = codes.shape[0]
    n_labels = max(n_labels, 1)
    items, agents = np.nonzero(codes >= 0)
    flat = items * n_labels + codes[items, agents]
    totals = np.bincount(flat, weights=weights[agents], minlength=n_items * n_labels)
    return totals.reshape(n_items, n_labels)


def decide(scores: np.ndarray, voted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The chosen label per item: the highest score, ties broken uniformly at random (a
    fixed lowest-code rule would favour option "A", itself a shared bias); -1 where
    ``voted`` is False."""
    top = np.max(scores, axis=1, keepdims=True)
    tied = np.isclose(scores, top, rtol=1e-12, atol=1e-15) & voted[:, None]
    # Random keys among the tied labels: argmax picks one of them uniformly.
    keys = np.where(tied, rng.random(scores.shape), -1.0)
    return np.where(voted, keys.argmax(axis=1), -1).astype(np.int32)


def vote_support(codes: np.ndarray, answer: np.ndarray) -> np.ndarray:
    """Share of the agents with a parsed answer whose answer is the chosen one."""
    n_voting = (codes >= 0).sum(axis=1)
    agreeing = ((codes == answer[:, None]) & (answer[:, None] >= 0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_voting > 0, agreeing / np.maximum(n_voting, 1), np.nan)


def normalize_rows(values: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; NaN rows where the total is not positive."""
    total = values.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, values / np.where(total > 0, total, 1.0), np.nan)


class Aggregator(ABC):
    """Turns the agents' answers on an item into one decision.

    Parameters are learned by `fit` on training items only; `predict` applies them to
    other items of the same agents (matched by name, so agent order may differ).
    `to_dict`/`aggregator_from_dict` save and restore a fitted aggregator as JSON-ready
    data.
    """

    name: ClassVar[str]
    needs_gold: ClassVar[bool] = False

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.agents_: tuple[str, ...] | None = None
        self.labels_: tuple[str, ...] = ()

    # ------------------------------------------------------------------ template
    def fit(self, responses: Responses) -> Self:
        """Learn the parameters from ``responses`` (the training items)."""
        codes = answer_codes(responses, self.name)
        if self.needs_gold and (responses.gold is None or not (responses.gold >= 0).any()):
            raise InputError(
                f"{self.name}: fitting needs training items with a known gold answer; none "
                "of the training items has one. Give a gold column, or choose a method that "
                "needs none (plurality, dawid_skene, one_coin)."
            )
        self.agents_ = tuple(str(a) for a in responses.agents)
        self.labels_ = tuple(responses.labels)
        self._fit(responses, codes)
        return self

    def predict(self, responses: Responses) -> Decisions:
        """The decision on every item of ``responses``."""
        responses = self._aligned(responses)
        codes = answer_codes(responses, self.name)
        scores = self._scores(responses, codes)
        voted = (codes >= 0).any(axis=1) & np.isfinite(scores).all(axis=1)
        scores = np.where(voted[:, None], scores, np.nan)
        filled = np.where(voted[:, None], scores, 0.0)
        answer = decide(filled, voted, np.random.default_rng(self.seed))
        correct = np.full(responses.n_items, np.nan)
        if responses.gold is not None:
            known = (responses.gold >= 0) & voted
            correct[known] = (answer[known] == responses.gold[known]).astype(np.float64)
            # No vote on an item with known gold is a failure to decide, scored wrong.
            correct[(responses.gold >= 0) & ~voted] = 0.0
        return Decisions(
            method=self.name,
            item_ids=np.asarray(responses.item_ids),
            labels=self.labels_,
            answer=answer,
            scores=scores,
            support=vote_support(codes, answer),
            correct=correct,
        )

    def fit_predict(self, responses: Responses) -> Decisions:
        return self.fit(responses).predict(responses)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted aggregator as JSON-ready data (``aggregator_from_dict`` reads it)."""
        return {
            "version": FORMAT_VERSION,
            "method": self.name,
            "seed": self.seed,
            "agents": list(self._fitted_agents()),
            "labels": list(self.labels_),
            "options": self._options(),
            "parameters": self._parameters(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if data.get("method") != cls.name:
            raise InputError(
                f"{cls.name}: the saved aggregator is {data.get('method')!r}, not {cls.name!r}."
            )
        if data.get("version") != FORMAT_VERSION:
            raise InputError(
                f"{cls.name}: saved format version {data.get('version')!r} is not "
                f"{FORMAT_VERSION}; refit and save it again with this version of monoculture."
            )
        made = cls(seed=int(data["seed"]), **data.get("options", {}))
        made.agents_ = tuple(data["agents"])
        made.labels_ = tuple(data["labels"])
        made._restore(data["parameters"])
        return made

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _fit(self, responses: Responses, codes: np.ndarray) -> None: ...

    @abstractmethod
    def _scores(self, responses: Responses, codes: np.ndarray) -> np.ndarray:
        """``(n_items, n_labels)`` non-negative scores, rows summing to 1 where any agent
        voted."""

    def _options(self) -> dict[str, Any]:
        return {}

    def _parameters(self) -> dict[str, Any]:
        return {}

    def _restore(self, parameters: dict[str, Any]) -> None:
        del parameters

    # ------------------------------------------------------------------ checks
    def _fitted_agents(self) -> tuple[str, ...]:
        if self.agents_ is None:
            raise InputError(f"{self.name}: call fit(responses) before predict or to_dict.")
        return self.agents_

    def _aligned(self, responses: Responses) -> Responses:
        """``responses`` with the agents in the fitted order."""
        fitted = self._fitted_agents()
        if tuple(responses.labels) != self.labels_:
            raise InputError(
                f"{self.name}: the answer labels {list(responses.labels)[:8]} differ from "
                f"those it was fitted on {list(self.labels_)[:8]}; split one Responses into "
                "training and held-out items so both share one vocabulary."
            )
        names = [str(a) for a in responses.agents]
        position = {name: i for i, name in enumerate(names)}
        missing = [a for a in fitted if a not in position]
        extra = sorted(set(names) - set(fitted))
        if missing or extra:
            raise InputError(
                f"{self.name}: predict needs the agents it was fitted on; missing "
                f"{missing[:5]}, not fitted {extra[:5]}. Fit on the same agents."
            )
        order = np.array([position[a] for a in fitted])
        if np.array_equal(order, np.arange(len(order))):
            return responses
        return responses.select(agents=order)
