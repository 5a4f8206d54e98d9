"""`Decisions`: what an aggregator returns for each item, the common currency of
`monoculture.aggregate` and `monoculture.guard`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Decisions"]


@dataclass(frozen=True, eq=False)
class Decisions:
    """A swarm's decision on each item, with the scores and support behind it.

    Attributes:
        method: the aggregator's name (``plurality``, ``weighted``, ``dawid_skene`` ...).
        item_ids: ``(n_items,)`` the items decided, in the order of the `Responses`.
        labels: the option vocabulary; ``scores[:, k]`` belongs to ``labels[k]``.
        answer: ``(n_items,)`` int32 code of the chosen option; -1 where no agent voted.
        scores: ``(n_items, n_options)`` float64, a distribution over options per item (a
            posterior for probabilistic models, normalised weighted votes otherwise); a row
            of NaN where no agent voted.
        support: ``(n_items,)`` float64, the share of the voting agents (by count, not
            weight) whose answer is the chosen one; NaN where no agent voted.
        correct: ``(n_items,)`` float64, 1 or 0 where gold is known, NaN elsewhere or where
            no agent voted.
    """

    method: str
    item_ids: np.ndarray
    labels: tuple[str, ...]
    answer: np.ndarray
    scores: np.ndarray
    support: np.ndarray
    correct: np.ndarray

    def __post_init__(self) -> None:
        for name in ("item_ids", "answer", "scores", "support", "correct"):
            getattr(self, name).flags.writeable = False

    @property
    def n_items(self) -> int:
        return int(self.answer.shape[0])

    @property
    def top_score(self) -> np.ndarray:
        """``(n_items,)`` the score of the chosen option (NaN where no agent voted)."""
        out = np.full(self.n_items, np.nan)
        voted = self.answer >= 0
        out[voted] = self.scores[voted, self.answer[voted]]
        return out
