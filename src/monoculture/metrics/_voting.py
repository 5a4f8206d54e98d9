"""Plurality votes of the swarm against the best single agent and against independence.

The plurality answer of an item is the most common parsed answer among the agents scored
on it; a tie between labels gives the gold label's share of the tie (the accuracy of a fair
random tie-break). Without answers (correctness only), the vote is a majority of
right/wrong, which treats every wrong answer as the same one: the worst case for a vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monoculture.metrics._agents import agent_accuracies
from monoculture.metrics._arrays import label_counts, safe_divide
from monoculture.metrics._independent_plurality import independent_plurality_probability
from monoculture.metrics._validate import (
    Seed,
    check_count,
    defined_or_warn,
    make_rng,
    prepare,
    warn_undefined,
)
from monoculture.responses import Responses

__all__ = [
    "PluralityOutcome",
    "independent_vote_accuracy",
    "plurality_accuracy",
    "plurality_outcome",
    "vote_accuracy_curve",
]


@dataclass(frozen=True)
class PluralityOutcome:
    """Per-item outcome of the plurality vote, ``(n_items,)`` arrays.

    Attributes:
        credit: 1 right, 0 wrong, a fraction for a tie that includes gold; NaN when the
            item cannot be scored (no agent scored, or gold unknown for an answer vote).
        agreement: share of the scored agents that gave the plurality answer.
        answer: the plurality label code (-1 when none or when tied).

    Example:
        >>> from monoculture import Responses
        >>> plurality_outcome(Responses.from_arrays(answers=[[0, 1]], gold=[0])).credit.tolist()
        [0.5]
    """

    credit: np.ndarray
    agreement: np.ndarray
    answer: np.ndarray


def _outcome_from_counts(
    counts: np.ndarray, n_scored: np.ndarray, gold: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Credit, agreement and winners mask from label counts ``(..., n_items, L)``."""
    top = counts.max(axis=-1)
    winners = (counts == top[..., None]) & (top[..., None] > 0)
    n_winners = winners.sum(axis=-1)
    gold_safe = np.maximum(gold, 0)
    index = np.broadcast_to(gold_safe[:, None], (*winners.shape[:-1], 1))
    gold_wins = np.take_along_axis(winners, index, axis=-1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        credit = np.where(n_winners > 0, gold_wins / np.maximum(n_winners, 1), 0.0)
        agreement = np.where(n_scored > 0, top / np.maximum(n_scored, 1), np.nan)
    scorable = (gold >= 0) & (n_scored > 0)
    credit = np.where(scorable, credit, np.nan)
    return credit, agreement, winners


def plurality_outcome(responses: Responses, *, complete_only: bool = False) -> PluralityOutcome:
    """Per-item plurality credit, agreement and answer (see `PluralityOutcome`).

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 2, 2]], gold=[0, 1])
        >>> plurality_outcome(r).credit.tolist()
        [1.0, 0.0]
    """
    responses = prepare(responses, "plurality_outcome", complete_only=complete_only)
    n_scored = responses.observed.sum(axis=1)
    if responses.answers is not None and responses.gold is not None:
        codes = np.where(responses.observed, responses.answers, -1)
        counts = label_counts(codes, len(responses.labels))
        credit, agreement, winners = _outcome_from_counts(counts, n_scored, responses.gold)
        answer = np.where(winners.sum(axis=-1) == 1, winners.argmax(axis=-1), -1)
        return PluralityOutcome(credit, agreement, answer)
    n_right = (responses.correct * responses.observed).sum(axis=1)
    n_wrong = n_scored - n_right
    credit = np.where(n_right > n_wrong, 1.0, np.where(n_right == n_wrong, 0.5, 0.0))
    credit = np.where(n_scored > 0, credit, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n_scored > 0, np.maximum(n_right, n_wrong) / n_scored, np.nan)
    return PluralityOutcome(credit, agreement, np.full(responses.n_items, -1))


def plurality_accuracy(responses: Responses, *, complete_only: bool = False) -> float:
    """Accuracy of the swarm's plurality vote over the items it can be scored on.

    NaN, with an `UndefinedMetricWarning`, when no item can be scored (gold unknown).

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 2, 2]], gold=[0, 1])
        >>> plurality_accuracy(r)
        0.5
    """
    responses = prepare(responses, "plurality_accuracy", complete_only=complete_only)
    credit = plurality_outcome(responses).credit
    scorable = np.isfinite(credit)
    value = credit[scorable].mean() if scorable.any() else float("nan")
    return defined_or_warn(float(value), "plurality_accuracy", "no item can be scored")


def _vote_options(responses: Responses) -> np.ndarray:
    """Options per item for the independence baseline: the item's option count when
    answers are known, else 2 (a right/wrong majority)."""
    counts = responses.option_counts() if responses.answers is not None else None
    return np.full(responses.n_items, 2) if counts is None else counts


def independent_vote_item_probability(
    observed: np.ndarray,
    right: np.ndarray,
    n_options: np.ndarray,
    abstain: np.ndarray | None = None,
) -> np.ndarray:
    """``(..., n_items)``: expected plurality credit per item for independent agents, right
    with probabilities ``right`` and abstaining with ``abstain`` (``(..., n_agents)``), over
    the agents scored on each item, their wrong votes spread uniformly over the item's
    ``n_options - 1`` wrong options.

    Items are grouped by (which agents were scored, number of options), one computation per
    group (exact up to `EXACT_LIMIT` agents).
    """
    if observed.shape[0] == 0:
        return np.zeros((*right.shape[:-1], 0))
    keys = np.column_stack([observed, n_options])
    groups, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    per_group = []
    for group in groups:
        who = group[:-1].astype(bool)
        per_group.append(
            independent_plurality_probability(
                right[..., who],
                int(group[-1]),
                None if abstain is None else abstain[..., who],
            )
        )
    return np.asarray(np.stack(per_group, axis=-1)[..., inverse])


def vote_rates(responses: Responses, weights: np.ndarray | None = None) -> VoteRates:
    """What the observed plurality vote counts, for the independence baseline to count the
    same: the items it scores, and each agent's rates of a right vote and of no vote
    (an unparsed answer) on them, over ``(n_rows, n_items)`` item ``weights`` (default 1)."""
    n_scored = responses.observed.sum(axis=1)
    if responses.answers is not None and responses.gold is not None:
        scorable = (responses.gold >= 0) & (n_scored > 0)
        unparsed = responses.observed & (responses.answers < 0)
    else:  # a right/wrong majority: every scored agent votes
        scorable = n_scored > 0
        unparsed = np.zeros_like(responses.observed)
    w = np.ones((1, responses.n_items)) if weights is None else np.asarray(weights, np.float64)
    w = w * scorable
    scored = w @ responses.observed.astype(np.float64)
    right = safe_divide(w @ (responses.correct * responses.observed).astype(np.float64), scored)
    abstain = safe_divide(w @ unparsed.astype(np.float64), scored)
    if weights is None:
        right, abstain = right[0], abstain[0]
    has_abstention = bool(unparsed[scorable].any())
    return VoteRates(scorable, right, abstain if has_abstention else None)


@dataclass(frozen=True)
class VoteRates:
    """Items the vote scores, ``(..., n_agents)`` right-vote rates, and abstention rates
    (``None`` when no scored agent ever abstains)."""

    scorable: np.ndarray
    right: np.ndarray
    abstain: np.ndarray | None


def independent_vote_accuracy(responses: Responses, *, complete_only: bool = False) -> float:
    """Plurality accuracy that independent agents with the same accuracies would reach.

    It models exactly what `plurality_accuracy` measures: the same items (gold known, some
    agent scored) and the same abstentions (an unparsed answer casts no vote). Each scored
    agent votes right, votes for one of the item's wrong options uniformly at random, or
    abstains, with its own rates on those items; each item gets the probability that gold
    wins the plurality (a fair tie-break included; no vote at all loses). Exact up to
    `EXACT_LIMIT` agents, Monte Carlo above (standard error at most `monte_carlo_se`).
    Without answers the vote is a right/wrong majority (two options). NaN, with an
    `UndefinedMetricWarning`, when no item can be scored.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]])
        >>> independent_vote_accuracy(r)  # three agents right with p = 3/4 each
        0.84375
    """
    responses = prepare(responses, "independent_vote_accuracy", complete_only=complete_only)
    rates = vote_rates(responses)
    items = rates.scorable
    if not items.any():
        return defined_or_warn(float("nan"), "independent_vote_accuracy", "no item can be scored")
    per_item = independent_vote_item_probability(
        responses.observed[items],
        np.nan_to_num(rates.right),
        _vote_options(responses)[items],
        None if rates.abstain is None else np.nan_to_num(rates.abstain),
    )
    return float(per_item.mean())


def _curve_sizes(n_agents: int, most: int = 40) -> list[int]:
    """Every size up to ``most`` agents; beyond, ``most`` sizes spaced geometrically (the
    curve changes fastest for small swarms), always ending with the whole swarm."""
    if n_agents <= most:
        return list(range(1, n_agents + 1))
    grid = np.unique(np.round(np.geomspace(1, n_agents, most)).astype(int))
    return sorted({*grid.tolist(), n_agents})


def vote_accuracy_curve(
    responses: Responses,
    *,
    n_subsets: int = 32,
    rng: Seed = 0,
    complete_only: bool = False,
) -> pd.DataFrame:
    """Plurality accuracy of random sub-swarms of size 1..n, against independence.

    Every size up to 40 agents; for larger swarms 40 sizes spaced geometrically.

    For each size, ``n_subsets`` random subsets of agents (all of them when fewer exist)
    vote on every item; the row gives the mean accuracy, its 10th-90th percentile across
    subsets, and the mean majority accuracy that independent agents with the same
    accuracies would reach (errors spread uniformly over wrong options; the items' option
    counts weighted by how often they occur).

    Returns:
        DataFrame with columns ``size, vote_accuracy, vote_accuracy_p10, vote_accuracy_p90,
        independent_accuracy, best_single_accuracy``.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(correct=[[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]])
        >>> vote_accuracy_curve(r)["vote_accuracy"].tolist()
        [0.75, 0.75, 1.0]
    """
    responses = prepare(responses, "vote_accuracy_curve", complete_only=complete_only)
    check_count(n_subsets, "n_subsets", "vote_accuracy_curve")
    generator = make_rng(rng, "vote_accuracy_curve")
    n_agents = responses.n_agents
    acc = agent_accuracies(responses)
    rows = []
    gold = responses.gold if responses.answers is not None else None
    hot = None  # (n_items, n_labels, n_agents) one-hot answers, for an answer vote
    if responses.answers is not None and gold is not None:
        n_labels = max(1, len(responses.labels))
        codes = np.where(responses.observed, responses.answers, -1)
        hot = np.zeros((responses.n_items, n_labels, n_agents), dtype=np.float32)
        items, agents = np.nonzero(codes >= 0)
        hot[items, codes[items, agents], agents] = 1.0
    best_single = float(np.max(acc[np.isfinite(acc)])) if np.isfinite(acc).any() else np.nan
    # The baseline counts what the vote counts: its items and its abstentions.
    rates = vote_rates(responses)
    right_rate = np.nan_to_num(rates.right)
    abstain_rate = None if rates.abstain is None else np.nan_to_num(rates.abstain)
    counted = _vote_options(responses)[rates.scorable]
    options, option_counts = np.unique(
        counted if len(counted) else _vote_options(responses), return_counts=True
    )
    option_shares = dict(
        zip(options.tolist(), (option_counts / option_counts.sum()).tolist(), strict=True)
    )
    for size in _curve_sizes(n_agents):
        subsets = np.argsort(generator.random((n_subsets, n_agents)), axis=1)[:, :size]
        selector = np.zeros((n_agents, n_subsets), dtype=np.float32)
        selector[subsets, np.arange(n_subsets)[:, None]] = 1.0
        scored = responses.observed.astype(np.float32) @ selector  # (n_items, S)
        if hot is not None and gold is not None:
            counts = np.moveaxis(hot @ selector, -1, 0)  # (S, n_items, L)
            credit, _, _ = _outcome_from_counts(counts, scored.T, gold)
        else:
            right = (responses.correct * responses.observed).astype(np.float32) @ selector
            wrong = scored - right
            credit = np.where(right > wrong, 1.0, np.where(right == wrong, 0.5, 0.0)).T
            credit = np.where(scored.T > 0, credit, np.nan)
        per_subset = _mean_of_finite(credit)
        independent = sum(
            share
            * independent_plurality_probability(
                right_rate[subsets], k, None if abstain_rate is None else abstain_rate[subsets]
            )
            for k, share in option_shares.items()
        )
        rows.append(
            {
                "size": size,
                "vote_accuracy": float(per_subset.mean()),
                "vote_accuracy_p10": float(np.quantile(per_subset, 0.1)),
                "vote_accuracy_p90": float(np.quantile(per_subset, 0.9)),
                "independent_accuracy": float(independent.mean()),
                "best_single_accuracy": best_single,
            }
        )
    curve = pd.DataFrame(rows)
    warn_undefined(curve["vote_accuracy"], "vote_accuracy_curve", "no item can be scored")
    return curve


def _mean_of_finite(values: np.ndarray) -> np.ndarray:
    """Mean over the last axis of the finite entries; NaN where none is finite."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=-1)
    count = finite.sum(axis=-1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)
