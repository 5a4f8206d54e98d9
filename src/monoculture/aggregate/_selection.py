"""Choosing k of n agents to combine: for diversity, against "the k most accurate".

Objectives, measured on training items with known gold:
- ``vote_accuracy``: the expected accuracy of the chosen agents' plurality vote (a tie
  gives the gold label's share of it, as `monoculture.metrics.plurality_accuracy`);
- ``systemic_failure``: the share of items (scored by at least 2 chosen agents) on which
  every chosen agent is wrong, as `monoculture.metrics.systemic_failure_rate`; minimised.

Search: ``exact`` scores every k-subset (vectorised over subsets in chunks), ``greedy``
adds agents to the most accurate one (two at a time for vote accuracy, so that the sets
scored have odd sizes and few ties; one at a time for systemic failure), ``auto`` is exact when the
subsets are few enough (at most ``EXACT_BUDGET`` item-label cells to count) and greedy
otherwise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from monoculture.aggregate._base import answer_codes, one_hot_votes
from monoculture.errors import InputError
from monoculture.responses import Responses

__all__ = ["EXACT_BUDGET", "Objective", "Selection", "select_agents", "top_k_agents"]

Objective = Literal["vote_accuracy", "systemic_failure"]
Search = Literal["auto", "exact", "greedy"]
OBJECTIVES: tuple[str, ...] = ("vote_accuracy", "systemic_failure")
SEARCHES: tuple[str, ...] = ("auto", "exact", "greedy")

EXACT_BUDGET = 2e9
"""Most subset x item x label cells an exact search counts (about a minute on 2 cores)."""
_CHUNK_CELLS = 2e7


@dataclass(frozen=True)
class Selection:
    """The chosen agents and the training objective they reach.

    Attributes:
        agents: the chosen agents' names, in the order chosen (greedy) or by position.
        objective: ``vote_accuracy`` or ``systemic_failure``.
        search: ``exact`` or ``greedy`` (what ``auto`` resolved to).
        value: the objective on the training items.
        subsets_scored: how many candidate sets were scored.
    """

    agents: tuple[str, ...]
    objective: str
    search: str
    value: float
    subsets_scored: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "agents": list(self.agents),
            "objective": self.objective,
            "search": self.search,
            "value": self.value,
            "subsets_scored": self.subsets_scored,
        }


def _vote_credit(counts: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Mean plurality credit over items with known gold, for counts ``(..., items, L)``."""
    top = counts.max(axis=-1, keepdims=True)
    winners = (counts == top) & (top > 0)
    n_winners = winners.sum(axis=-1)
    gold_wins = winners[..., np.arange(len(gold)), gold]
    credit = np.where(n_winners > 0, gold_wins / np.maximum(n_winners, 1), 0.0)
    return np.asarray(credit.mean(axis=-1), dtype=np.float64)


def _systemic(wrong: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Share of eligible items (>= 2 scored) with every scored agent wrong, ``(..., items)``
    counts in; NaN where no item is eligible."""
    eligible = scored >= 2
    failed = (wrong == scored) & eligible
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(failed.sum(axis=-1) / eligible.sum(axis=-1), dtype=np.float64)


class _Scorer:
    """Scores many agent sets at once on the training items with known gold."""

    def __init__(self, responses: Responses, objective: str) -> None:
        known = np.ones(responses.n_items, dtype=bool)
        if responses.gold is not None:
            known = responses.gold >= 0
        if not known.any():
            raise InputError(
                "select_agents: needs training items with a known gold answer; none has one."
            )
        self.objective = objective
        if objective == "vote_accuracy":
            codes = answer_codes(responses, "select_agents")[known]
            if responses.gold is None:
                raise InputError("select_agents: vote_accuracy needs gold answers.")
            self.gold = responses.gold[known]
            self.votes = one_hot_votes(codes, len(responses.labels))  # (items, agents, L)
        else:
            self.wrong = responses.errors[known]
            self.scored = responses.observed[known].astype(np.float64)

    def sets(self, members: np.ndarray) -> np.ndarray:
        """Objective of each set in ``members`` ``(n_sets, k)`` (agent positions); higher
        is better (systemic failure is negated)."""
        if self.objective == "vote_accuracy":
            counts = self.votes[:, members, :].sum(axis=2).transpose(1, 0, 2)
            return _vote_credit(counts, self.gold)
        wrong = self.wrong[:, members].sum(axis=2).T
        scored = self.scored[:, members].sum(axis=2).T
        return -_systemic(wrong, scored)

    def cells(self) -> int:
        if self.objective == "vote_accuracy":
            return int(self.votes.shape[0] * self.votes.shape[2])
        return int(self.wrong.shape[0])


def _accuracy_order(responses: Responses) -> np.ndarray:
    """Agent positions from most to least accurate on known gold (ties by name)."""
    known = np.ones(responses.n_items, dtype=bool)
    if responses.gold is not None:
        known = responses.gold >= 0
    scored = responses.observed[known]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (responses.correct[known] * scored).sum(axis=0) / scored.sum(axis=0)
    accuracy = np.where(np.isfinite(accuracy), accuracy, -1.0)
    names = np.asarray(responses.agents, dtype=str)
    return np.lexsort((names, -accuracy))


def top_k_agents(responses: Responses, k: int) -> tuple[str, ...]:
    """The ``k`` most accurate agents on the items with known gold (ties by name).

    Example:
        >>> r = Responses.from_arrays(correct=[[1, 0, 1], [1, 0, 0]])
        >>> top_k_agents(r, 2)
        ('agent_0', 'agent_2')
    """
    _check_k(k, responses.n_agents)
    return tuple(str(responses.agents[a]) for a in _accuracy_order(responses)[:k])


def _check_k(k: int, n_agents: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_agents:
        raise InputError(
            f"select_agents: `k` must be an integer from 1 to the number of agents "
            f"({n_agents}); got {k!r}. Choose fewer agents."
        )


def select_agents(
    responses: Responses,
    k: int,
    *,
    objective: Objective = "vote_accuracy",
    search: Search = "auto",
) -> Selection:
    """Choose ``k`` agents that maximise the objective on ``responses`` (training items).

    Example:
        >>> gold = [0, 1, 2, 0, 1, 2]
        >>> a = [0, 1, 2, 1, 2, 0]  # right on 3; b and c copy a; d and e differ
        >>> d, e = [0, 1, 0, 0, 2, 2], [2, 1, 2, 0, 1, 1]
        >>> r = Responses.from_arrays(answers=np.array([a, a, a, d, e]).T, gold=gold)
        >>> select_agents(r, 3).agents
        ('agent_0', 'agent_3', 'agent_4')
    """
    _check_k(k, responses.n_agents)
    if objective not in OBJECTIVES:
        raise InputError(
            f"select_agents: `objective` must be one of {OBJECTIVES}; got {objective!r}."
        )
    if search not in SEARCHES:
        raise InputError(f"select_agents: `search` must be one of {SEARCHES}; got {search!r}.")
    scorer = _Scorer(responses, objective)
    n = responses.n_agents
    exact_cost = math.comb(n, k) * scorer.cells() * k
    if search == "auto":
        search = "exact" if exact_cost <= EXACT_BUDGET else "greedy"
    elif search == "exact" and exact_cost > EXACT_BUDGET:
        raise InputError(
            f"select_agents: an exact search over the {math.comb(n, k):,} sets of {k} of {n} "
            f"agents would count {exact_cost:.2g} cells (limit {EXACT_BUDGET:.0g}); use "
            "search='greedy' (--search greedy)."
        )
    names = np.asarray(responses.agents, dtype=str)
    sign = 1.0 if objective == "vote_accuracy" else -1.0
    if search == "exact":
        members, value, scored = _exact(scorer, n, k)
    else:
        # Vote accuracy adds agents in pairs: a set of even size ties often, which makes a
        # copy of the best agent look better than a second opinion one step at a time.
        step = 2 if objective == "vote_accuracy" else 1
        members, value, scored = _greedy(scorer, _accuracy_order(responses), k, step)
    return Selection(tuple(str(names[a]) for a in members), objective, search, sign * value, scored)


def _best_of(
    scorer: _Scorer, sets: Iterator[tuple[int, ...]], size: int
) -> tuple[list[int], float, int]:
    """The best of ``sets`` (all of length ``size``), scored in chunks; the first best in
    the iteration order wins a tie, so results are deterministic."""
    chunk = max(1, int(_CHUNK_CELLS // max(scorer.cells() * size, 1)))
    best_value = -np.inf
    best: list[int] = []
    scored = 0
    while batch := list(itertools.islice(sets, chunk)):
        values = np.nan_to_num(scorer.sets(np.asarray(batch)), nan=-np.inf)
        scored += len(batch)
        top = int(np.argmax(values))
        if values[top] > best_value or not best:
            best_value, best = float(values[top]), list(batch[top])
    return best, best_value, scored


def _exact(scorer: _Scorer, n: int, k: int) -> tuple[list[int], float, int]:
    return _best_of(scorer, itertools.combinations(range(n), k), k)


def _greedy(scorer: _Scorer, order: np.ndarray, k: int, step: int) -> tuple[list[int], float, int]:
    """Forward selection from the most accurate agent, adding ``step`` agents at a time
    (the last step fewer). Candidates are tried in accuracy order, so a tie goes to the
    more accurate ones."""
    chosen = [int(order[0])]
    value, scored = _best_of(scorer, iter([tuple(chosen)]), 1)[1:]
    while len(chosen) < k:
        size = min(step, k - len(chosen))
        rest = [int(a) for a in order if a not in chosen]
        sets = (tuple(chosen) + extra for extra in itertools.combinations(rest, size))
        best, value, count = _best_of(scorer, sets, len(chosen) + size)
        chosen, scored = best, scored + count
    return chosen, value, scored
