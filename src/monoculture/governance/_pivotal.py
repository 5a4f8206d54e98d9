"""Empirical decision power on real answers: how often a group of agents decides the swarm.

The swarm decides each item by a weighted plurality of the agents' answers (plain
plurality when every weight is 1); ties go to the lowest option code, a deterministic rule
that any reader can re-run. For a group ``g`` (a model family, a constitution, ...) and an
item with decision ``d``:

- *removal-pivotal*: the decision of the other agents alone differs from ``d`` (including
  no decision at all, when only ``g`` answered): losing ``g`` (an outage, a withdrawn
  model) changes what the swarm decides;
- *flip-pivotal*: some option ``o != d`` exists such that, if every agent of ``g`` that
  answered the item voted for ``o`` instead, the decision would no longer be ``d``: the
  group, answering in concert (a shared constitution or a compromised provider), can
  change the decision on its own. Every removal-pivotal item is flip-pivotal.

A group's *pivotal share* is the share of decided items on which it is pivotal, with a
percentile item-bootstrap interval (Efron & Tibshirani 1993, ch. 13). A group whose
flip-pivotal share exceeds one half decides most of the swarm's decisions by itself: a
single point of failure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.governance._power import MISSING_GROUP
from monoculture.metrics import Estimate
from monoculture.responses import Responses

__all__ = ["PivotalPower", "agent_groups", "pivotal_power", "weighted_plurality"]

SINGLE_POINT_SHARE = 0.5
"""A group pivotal (by flipping) on more than this share of decisions is flagged."""

PivotalKind = Literal["flip", "removal"]

_RESAMPLE_BLOCK_BYTES = 64 * 2**20


# ---------------------------------------------------------------------------- kernels
def _scores(answers: np.ndarray, weights: np.ndarray, n_options: int) -> np.ndarray:
    """``(n_items, n_options)`` total weight behind each option, from ``(n_items, n_agents)``
    answer codes (-1 = no answer, not counted): a one-hot count by `np.bincount`."""
    items, agents = np.nonzero(answers >= 0)
    flat = items * n_options + answers[items, agents]
    totals = np.bincount(flat, weights=weights[agents], minlength=answers.shape[0] * n_options)
    return totals.reshape(answers.shape[0], n_options)


def _decide(scores: np.ndarray, voted: np.ndarray) -> np.ndarray:
    """``(n_items,)`` the option with the most weight, the lowest code on a tie (`np.argmax`
    returns the first maximum); -1 where ``voted`` is False."""
    return np.where(voted, np.argmax(scores, axis=1), -1)


def weighted_plurality(
    answers: np.ndarray, *, weights: np.ndarray | None = None, n_options: int | None = None
) -> np.ndarray:
    """The swarm's decision on each item by weighted plurality.

    Args:
        answers: ``(n_items, n_agents)`` int answer codes, -1 = no answer.
        weights: ``(n_agents,)`` non-negative weights; ``None`` = plurality (all 1).
        n_options: number of option codes (default ``answers.max() + 1``).

    Returns:
        ``(n_items,)`` int64: the code with the largest total weight, the lowest code on a
        tie; -1 where no agent with positive weight answered.

    Example:
        >>> weighted_plurality(np.array([[0, 1, 1], [2, 0, -1], [-1, -1, -1]]))
        array([ 1,  0, -1])
        >>> weighted_plurality(np.array([[0, 1, 1]]), weights=np.array([3.0, 1.0, 1.0]))
        array([0])
    """
    codes = np.asarray(answers)
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise InputError(
            "weighted_plurality: `answers` must be a 2-D integer array (n_items, n_agents); "
            f"got dtype {codes.dtype} and shape {codes.shape}."
        )
    w = _check_agent_weights(weights, codes.shape[1], "weighted_plurality")
    size = int(codes.max()) + 1 if n_options is None else int(n_options)
    size = max(size, 1)
    if (codes >= size).any():
        raise InputError(
            f"weighted_plurality: answer codes must be below `n_options` = {size}; got "
            f"{int(codes.max())}."
        )
    voted = np.asarray(((codes >= 0) & (w > 0)[None, :]).any(axis=1))
    return _decide(_scores(codes, w, size), voted)


def _pivotal_indicators(
    answers: np.ndarray, weights: np.ndarray, members: np.ndarray, n_options: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: decided, removal-pivotal and flip-pivotal for the group ``members``.

    ``answers (n_items, n_agents)``, ``weights (n_agents,)``, ``members (n_agents,)`` bool.
    Others' scores are summed directly (not full minus group) so that float ties are the
    same as in a vote of the others alone.
    """
    positive = weights > 0
    answered = answers >= 0
    voted = np.asarray((answered & positive).any(axis=1))
    decision = _decide(_scores(answers, weights, n_options), voted)
    others_w = np.where(members, 0.0, weights)
    others = _scores(answers, others_w, n_options)
    others_voted = np.asarray((answered & (positive & ~members)).any(axis=1))
    removal = _decide(others, others_voted) != decision
    # The group's weight on each item: its members that answered it.
    group_weight = (answered * np.where(members, weights, 0.0)[None, :]).sum(axis=1)
    # Flip: the group's weight moves to the strongest rival o != d; d is overturned when
    # R_o + W_g beats R_d (more weight, or equal weight and a lower code).
    safe = np.maximum(decision, 0)
    rows = np.arange(answers.shape[0])
    rival_scores = others.copy()
    rival_scores[rows, safe] = -np.inf
    rival = np.argmax(rival_scores, axis=1)
    challenger = rival_scores[rows, rival] + group_weight
    defender = others[rows, safe]
    flip = (challenger > defender) | ((challenger == defender) & (rival < safe))
    flip = (flip & (group_weight > 0) & (n_options > 1)) | removal
    return voted, removal & voted, flip & voted


def _resample_counts(n_items: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_resamples, n_items)`` float32 multiplicities of items drawn with replacement."""
    draws = rng.integers(0, n_items, size=(n_resamples, n_items))
    offsets = (np.arange(n_resamples) * n_items)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_items)
    return counts.reshape(n_resamples, n_items).astype(np.float32)


def _bootstrap_shares(
    indicators: np.ndarray, n_resamples: int, level: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of the means of ``indicators (n_rows, n_items)`` 0/1 rows: all
    resamples of items at once (in blocks), one matrix product per block."""
    n_rows, n_items = indicators.shape
    if n_resamples == 0 or n_items == 0:
        nan = np.full(n_rows, np.nan)
        return nan, nan
    features = indicators.T.astype(np.float32)
    block = max(1, min(n_resamples, _RESAMPLE_BLOCK_BYTES // max(1, 8 * n_items)))
    draws = []
    done = 0
    while done < n_resamples:
        size = min(block, n_resamples - done)
        weights = _resample_counts(n_items, size, rng)
        draws.append(np.asarray(weights @ features, dtype=np.float64) / n_items)
        done += size
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(np.concatenate(draws), [alpha, 1.0 - alpha], axis=0)
    return np.asarray(low), np.asarray(high)


# ---------------------------------------------------------------------------- public
@dataclass(frozen=True, eq=False)
class PivotalPower:
    """How often each group of agents decides the swarm, on real answers.

    Attributes:
        attribute: the agent attribute that defines the groups.
        groups: ``(g,)`` group names, in order of decreasing flip-pivotal share.
        n_agents: ``(g,)`` agents in each group.
        removal: group -> `Estimate` of its removal-pivotal share.
        flip: group -> `Estimate` of its flip-pivotal share.
        n_items: items the swarm decided (at least one agent answered); the shares'
            denominator.
        rule: the aggregation: ``"plurality"`` or ``"weighted plurality"``, ties to the
            lowest option code.
        single_points_of_failure: groups whose flip-pivotal share exceeds 1/2.
    """

    attribute: str
    groups: tuple[str, ...]
    n_agents: np.ndarray
    removal: dict[str, Estimate]
    flip: dict[str, Estimate]
    n_items: int
    rule: str
    single_points_of_failure: tuple[str, ...]

    def share(self, kind: PivotalKind = "flip") -> dict[str, Estimate]:
        """The estimates of one kind: ``"flip"`` or ``"removal"``."""
        return self.flip if kind == "flip" else self.removal

    def to_frame(self) -> pd.DataFrame:
        """One row per group: agents, removal and flip shares with their intervals, and the
        single-point-of-failure flag."""
        rows = []
        for group, n in zip(self.groups, self.n_agents.tolist(), strict=True):
            r, f = self.removal[group], self.flip[group]
            rows.append(
                {
                    self.attribute: group,
                    "n_agents": n,
                    "removal_share": r.value,
                    "removal_ci_low": r.ci_low,
                    "removal_ci_high": r.ci_high,
                    "flip_share": f.value,
                    "flip_ci_low": f.ci_low,
                    "flip_ci_high": f.ci_high,
                    "single_point_of_failure": group in self.single_points_of_failure,
                }
            )
        return pd.DataFrame(rows).set_index(self.attribute)


def agent_groups(responses: Responses, by: str) -> np.ndarray:
    """``(n_agents,)`` each agent's value of the attribute ``by`` as text; a missing value
    is ``"(missing)"``.

    Raises:
        InputError: when ``responses.agent_attrs`` has no column ``by``.

    Example:
        >>> import pandas as pd
        >>> r = Responses.from_arrays(answers=[[0, 1, 1]], gold=[0], labels="AB")
        >>> attrs = pd.DataFrame({"agent": r.agents, "family": ["x", "y", None]})
        >>> agent_groups(r.with_agent_attributes(attrs), "family").tolist()
        ['x', 'y', '(missing)']
    """
    if by not in responses.agent_attrs.columns:
        have = ", ".join(map(str, responses.agent_attrs.columns)) or "none"
        raise InputError(
            f"no agent attribute {by!r} in these responses (attributes: {have}); give an "
            "agent table with that column (--agents FILE) or group by another attribute."
        )
    values = responses.agent_attrs[by].to_numpy()
    return np.asarray([MISSING_GROUP if pd.isna(v) else str(v) for v in values], dtype=object)


def _check_agent_weights(weights: np.ndarray | None, n_agents: int, function: str) -> np.ndarray:
    if weights is None:
        return np.ones(n_agents)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_agents,) or not np.isfinite(w).all() or (w < 0).any():
        raise InputError(
            f"{function}: `weights` must be {n_agents} finite numbers >= 0, one per agent; "
            f"got shape {w.shape}" + ("" if w.shape != (n_agents,) else f", {w[:5].tolist()}") + "."
        )
    return w


def pivotal_power(
    responses: Responses,
    *,
    by: str = "family",
    weights: np.ndarray | Sequence[float] | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    rng: int | np.random.Generator | None = 0,
) -> PivotalPower:
    """Each group's share of pivotal items (removal and flip), with item-bootstrap intervals.

    Args:
        responses: needs ``answers`` (``(n_items, n_agents)`` codes) and the agent
            attribute ``by``.
        by: the agent attribute that defines the groups (``family``, ``developer``,
            ``constitution``, ``provider`` ...).
        weights: ``(n_agents,)`` voting weights; ``None`` = plurality.
        n_resamples: item-bootstrap resamples (0 = no intervals: bounds NaN).
        level: confidence level of the intervals.
        rng: seed or Generator of the resampling.

    Returns:
        `PivotalPower`; see the module docstring for the definitions.

    Example (family ``a`` holds 3 of 5 votes: by flipping it decides every item; without
    ``b``, item 3 ties 2-2 and goes to the lower code):
        >>> import pandas as pd
        >>> r = Responses.from_arrays(
        ...     answers=[[0, 0, 0, 1, 1], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1]], gold=[0, 1, 1],
        ...     labels="AB")
        >>> fam = pd.DataFrame({"agent": r.agents, "family": ["a", "a", "a", "b", "c"]})
        >>> p = pivotal_power(r.with_agent_attributes(fam), n_resamples=0)
        >>> p.flip["a"].value, round(p.removal["b"].value, 3), p.single_points_of_failure
        (1.0, 0.333, ('a',))
    """
    function = "pivotal_power"
    if not isinstance(responses, Responses):
        raise InputError(f"{function}: expected a Responses; got {type(responses).__name__}.")
    if responses.answers is None:
        raise InputError(
            f"{function}: needs the agents' answers, not only correctness: who decides an item "
            "depends on what each agent answered. Give an answer column."
        )
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 0:
        raise InputError(f"{function}: `n_resamples` must be an integer >= 0; got {n_resamples!r}.")
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise InputError(f"{function}: `level` must be a number in (0, 1); got {level!r}.")
    w = _check_agent_weights(
        None if weights is None else np.asarray(weights), responses.n_agents, function
    )
    groups = agent_groups(responses, by)
    answers = np.asarray(responses.answers)
    n_options = max(len(responses.labels), int(answers.max()) + 1, 1)
    names, inverse = np.unique(groups, return_inverse=True)
    removal_rows, flip_rows = [], []
    decided = np.zeros(responses.n_items, dtype=bool)
    for g in range(names.shape[0]):  # a handful of groups; items are vectorised
        voted, removal, flip = _pivotal_indicators(answers, w, inverse == g, n_options)
        decided = voted
        removal_rows.append(removal)
        flip_rows.append(flip)
    n_decided = int(decided.sum())
    indicators = np.vstack(removal_rows + flip_rows)[:, decided].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = indicators.mean(axis=1) if n_decided else np.full(indicators.shape[0], np.nan)
    generator = np.random.default_rng(rng)
    low, high = _bootstrap_shares(indicators, n_resamples, level, generator)
    seed = f"seed {rng}" if isinstance(rng, int) else "a caller's Generator"
    method = f"percentile item bootstrap, {n_resamples} resamples, level {level:g}, {seed}"
    n_groups = names.shape[0]
    estimates = [
        Estimate(float(point[i]), float(low[i]), float(high[i]), n_decided, method)
        for i in range(2 * n_groups)
    ]
    flip_values = point[n_groups:]
    order = np.lexsort((names.astype(str), -np.nan_to_num(flip_values, nan=-1.0)))
    ordered = tuple(str(names[i]) for i in order)
    spof = tuple(
        str(names[i])
        for i in order
        if math.isfinite(flip_values[i]) and flip_values[i] > SINGLE_POINT_SHARE
    )
    return PivotalPower(
        attribute=by,
        groups=ordered,
        n_agents=np.bincount(inverse, minlength=n_groups)[order],
        removal={str(names[i]): estimates[i] for i in order},
        flip={str(names[i]): estimates[n_groups + i] for i in order},
        n_items=n_decided,
        rule="plurality" if weights is None else "weighted plurality",
        single_points_of_failure=spof,
    )
