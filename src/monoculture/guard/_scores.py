"""Scores a gate thresholds: one confidence value per item, higher = more confident.

A score comes with the swarm's answer on each item and whether that answer is right, so a
gate can count its quiet failures (answered and wrong). Built-in scores are computed from a
`Responses` (`score_items`); any aggregator plugs in through its `Decisions`
(`score_decisions`); any other per-item score, such as the effective number of independent
supporters of the winning answer, through `score_array`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from monoculture.aggregate import Decisions
from monoculture.errors import InputError
from monoculture.metrics._arrays import label_counts
from monoculture.metrics._validate import check_responses, require_answers
from monoculture.responses import Responses

__all__ = [
    "SCORES",
    "ItemScores",
    "ScoreName",
    "decision_stream",
    "score_array",
    "score_decisions",
    "score_items",
]

ScoreName = Literal["agreement", "margin", "entropy", "probability", "supporters"]
SCORES: tuple[str, ...] = get_args(ScoreName)
"""The scores `score_items` computes from a `Responses`."""


@dataclass(frozen=True, eq=False)
class ItemScores:
    """A per-item confidence score with the swarm's answer and whether it is right.

    Attributes:
        name: the score's name (``agreement``, ``margin``, ``entropy``, ``probability``, an
            aggregator's method, or a caller's name); a gate remembers it and refuses scores
            of another name.
        values: ``(n_items,)`` float64, higher = more confident; NaN where the swarm gives
            no answer (the gate always abstains there).
        answer: ``(n_items,)`` int64 code of the swarm's answer; -1 where none.
        correct: ``(n_items,)`` float64: 1 right, 0 wrong (or no answer), NaN where gold is
            unknown (such items cannot be used to calibrate or to count failures).
        item_ids: ``(n_items,)`` item identifiers.
    """

    name: str
    values: np.ndarray
    answer: np.ndarray
    correct: np.ndarray
    item_ids: np.ndarray

    def __post_init__(self) -> None:
        for array in (self.values, self.answer, self.correct, self.item_ids):
            array.flags.writeable = False

    @property
    def n_items(self) -> int:
        return int(self.values.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        """``(n_items,)`` bool: gold is known, so a failure there can be counted."""
        return np.asarray(np.isfinite(self.correct))

    def select(self, items: np.ndarray) -> ItemScores:
        """The scores of the items at these positions (or this boolean mask)."""
        index = np.asarray(items)
        return ItemScores(
            self.name,
            np.array(self.values[index]),
            np.array(self.answer[index]),
            np.array(self.correct[index]),
            np.array(self.item_ids[index]),
        )


def _plurality(responses: Responses) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vote counts ``(n_items, n_labels)``, answer (lowest code among tied labels; -1 when
    nobody answered), number of agents scored per item, and correctness."""
    answers = require_answers(responses, "score_items")
    codes = np.where(responses.observed, answers, -1)
    counts = label_counts(codes, len(responses.labels))
    voted = counts.sum(axis=1) > 0
    answer = np.where(voted, counts.argmax(axis=1), -1).astype(np.int64)
    n_scored = responses.observed.sum(axis=1)
    if responses.gold is None:
        correct = np.full(responses.n_items, np.nan)
    else:
        gold = responses.gold
        correct = np.where(gold >= 0, (answer == gold) & voted, np.nan).astype(np.float64)
    return counts, answer, n_scored, correct


def score_items(
    responses: Responses,
    *,
    score: ScoreName = "agreement",
    consistency: np.ndarray | None = None,
) -> ItemScores:
    """A confidence score per item from the agents' votes; the swarm's answer is the
    plurality answer (the lowest label code among tied labels).

    Scores (all in [0, 1]):

    - ``agreement``: share of the agents scored on the item that gave the plurality answer
      (an unparsed answer counts against it), as in `monoculture.metrics.plurality_outcome`;
    - ``margin``: (votes for the plurality answer - votes for the runner-up) / agents scored;
    - ``entropy``: ``1 - H / log(L)``, H the Shannon entropy of the parsed votes and L the
      vocabulary size: 1 when unanimous;
    - ``probability``: mean over the agents scored of the probability they give to the
      plurality answer (needs ``responses.probs``);
    - ``supporters``: the effective number of independent agents behind the plurality
      answer over the agents scored (`monoculture.aggregate.effective_supporters`: agents
      discounted by their error consistency), so a unanimous bloc of copies scores like
      one agent and unanimous independent agents score 1.

    Args:
        responses: ``(n_items, n_agents)`` answers (gold optional: without it ``correct``
            is NaN and the scores can be gated but not calibrated).
        score: which score.
        consistency: for ``supporters``, the ``(n_agents, n_agents)`` matrix of
            `monoculture.aggregate.consistency_matrix` learned on other items (e.g. the
            calibration items); by default computed on ``responses`` itself.

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 1, 1]], gold=[1, 1])
        >>> s = score_items(r)
        >>> s.values.round(3).tolist(), s.answer.tolist(), s.correct.tolist()
        ([0.667, 1.0], [0, 1], [0.0, 1.0])
    """
    responses = check_responses(responses, "score_items")
    if score not in SCORES:
        shown = ", ".join(SCORES)
        raise InputError(
            f"score_items: `score` must be one of {shown}; got {score!r}. For an "
            "aggregator's posterior use score_decisions(decisions); for any other per-item "
            "score, score_array(values, correct=...)."
        )
    counts, answer, n_scored, correct = _plurality(responses)
    voted = answer >= 0
    top = counts.max(axis=1).astype(np.float64)
    denominator = np.maximum(n_scored, 1).astype(np.float64)
    if score == "agreement":
        values = top / denominator
    elif score == "margin":
        ordered = np.sort(counts, axis=1)
        second = ordered[:, -2] if counts.shape[1] > 1 else np.zeros(len(top))
        values = (top - second) / denominator
    elif score == "entropy":
        values = 1.0 - _vote_entropy(counts, len(responses.labels))
    elif score == "supporters":
        from monoculture.aggregate import consistency_matrix, effective_supporters

        matrix = consistency_matrix(responses) if consistency is None else consistency
        codes = np.where(responses.observed, require_answers(responses, "score_items"), -1)
        behind = (codes == answer[:, None]) & voted[:, None]
        values = effective_supporters(behind, matrix) / denominator
    else:
        if responses.probs is None:
            raise InputError(
                "score_items: score='probability' needs the agents' option probabilities "
                "(`probs`); give a probabilities column, or choose agreement, margin or "
                "entropy."
            )
        chosen = np.take_along_axis(responses.probs, np.maximum(answer, 0)[:, None, None], axis=2)[
            :, :, 0
        ]
        with np.errstate(invalid="ignore"):
            total = np.where(responses.observed, chosen, 0.0).sum(axis=1)
            values = total / denominator
    values = np.where(voted, values, np.nan)
    return ItemScores(score, values, answer, correct, np.array(responses.item_ids))


def _vote_entropy(counts: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n_items,)`` Shannon entropy of the parsed votes over ``log(n_labels)``, in [0, 1]
    (NaN where nobody voted)."""
    total = counts.sum(axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / total
        terms = np.where(counts > 0, share * np.log(np.where(counts > 0, share, 1.0)), 0.0)
    entropy = (0.0 - terms.sum(axis=1)) / np.log(max(n_labels, 2))
    return np.where(total[:, 0] > 0, entropy, np.nan)


def score_decisions(decisions: Decisions) -> ItemScores:
    """An aggregator's decisions as a gate score: the score of its chosen option
    (`Decisions.top_score`: a posterior, or a normalised weighted vote), named after the
    aggregator's method.

    Items where no agent voted get NaN (always abstained) and count as labelled wrong
    answers that the gate never gives.

    Example:
        >>> d = Decisions("plurality", np.array(["q1", "q2"]), ("A", "B"), np.array([0, 1]),
        ...               np.array([[0.9, 0.1], [0.4, 0.6]]), np.array([0.9, 0.6]),
        ...               np.array([1.0, 0.0]))
        >>> score_decisions(d).values.tolist()
        [0.9, 0.6]
    """
    if not isinstance(decisions, Decisions):
        raise InputError(
            f"score_decisions: expected a monoculture Decisions (what an aggregator "
            f"returns); got {type(decisions).__name__}."
        )
    answer = np.asarray(decisions.answer, dtype=np.int64)
    correct = np.where(answer < 0, 0.0, np.asarray(decisions.correct, dtype=np.float64))
    return ItemScores(
        decisions.method,
        np.asarray(decisions.top_score, dtype=np.float64),
        answer,
        correct,
        np.array(decisions.item_ids),
    )


def score_array(
    values: np.ndarray,
    *,
    correct: np.ndarray,
    name: str,
    answer: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
) -> ItemScores:
    """Any per-item score computed elsewhere, e.g. the effective number of independent
    supporters of the winning answer from `monoculture.aggregate`.

    Args:
        values: ``(n_items,)`` higher = more confident; NaN where the swarm gives no answer.
        correct: ``(n_items,)`` 1 if the swarm's answer is right, 0 if wrong, NaN unknown.
        name: the score's name, kept in the gate file.
        answer: ``(n_items,)`` answer codes (-1 none); default: unknown (all 0 where a
            value exists).
        item_ids: ``(n_items,)`` identifiers; default ``0..n_items-1``.

    Example:
        >>> score_array(np.array([2.5, 1.0]), correct=np.array([1, 0]), name="n_eff").n_items
        2
    """
    array = np.asarray(values, dtype=np.float64)
    truth = np.asarray(correct, dtype=np.float64)
    if array.ndim != 1 or truth.shape != array.shape:
        raise InputError(
            f"score_array: `values` and `correct` must be 1-D arrays of one length (one "
            f"entry per item); got shapes {array.shape} and {truth.shape}."
        )
    if np.isinf(array).any():
        raise InputError("score_array: `values` must be finite or NaN (no answer); found inf.")
    known = np.isfinite(truth)
    if ((truth[known] != 0) & (truth[known] != 1)).any():
        raise InputError("score_array: `correct` must hold only 1, 0 or NaN (unknown).")
    if not name or not isinstance(name, str):
        raise InputError(f"score_array: `name` must be a non-empty string; got {name!r}.")
    codes = np.where(np.isfinite(array), 0, -1) if answer is None else np.asarray(answer, np.int64)
    ids = np.arange(len(array)) if item_ids is None else np.asarray(item_ids)
    if codes.shape != array.shape or ids.shape != array.shape:
        raise InputError("score_array: `answer` and `item_ids` need one entry per item.")
    truth = np.where(np.isfinite(array) | ~known, truth, 0.0)
    return ItemScores(name, array, codes.astype(np.int64), truth, ids)


def decision_stream(responses: Responses) -> pd.DataFrame:
    """One row per item, in item order, as a stream of swarm decisions for the monitors
    (the format ``monoculture guard replay`` reads; see docs/guard.md).

    Columns: ``step`` (0, 1, ...), ``item_id``, ``answer`` (code, -1 none), ``agreement``,
    ``margin``, ``entropy`` (normalised vote entropy in [0, 1]: it collapses to 0 when the
    swarm synchronises) and ``correct`` (1/0; NaN where gold is unknown, i.e. not a canary).

    Example:
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 1, 1]], gold=[1, 1])
        >>> decision_stream(r)[["step", "agreement", "entropy", "correct"]].round(3).values.tolist()
        [[0.0, 0.667, 0.918, 0.0], [1.0, 1.0, 0.0, 1.0]]
    """
    responses = check_responses(responses, "decision_stream")
    counts, answer, n_scored, correct = _plurality(responses)
    top = counts.max(axis=1).astype(np.float64)
    ordered = np.sort(counts, axis=1)
    second = ordered[:, -2] if counts.shape[1] > 1 else np.zeros(len(top))
    denominator = np.maximum(n_scored, 1).astype(np.float64)
    voted = answer >= 0
    return pd.DataFrame(
        {
            "step": np.arange(responses.n_items),
            "item_id": responses.item_ids,
            "answer": answer,
            "agreement": np.where(voted, top / denominator, np.nan),
            "margin": np.where(voted, (top - second) / denominator, np.nan),
            "entropy": _vote_entropy(counts, len(responses.labels)),
            "correct": correct,
        }
    )
