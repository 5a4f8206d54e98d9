"""Empirical pivotal power: the vectorised kernel against a naive per-item loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture import Responses
from monoculture.errors import InputError
from monoculture.governance import agent_groups, pivotal_power, weighted_plurality


def naive_decision(votes: list[tuple[int, float]], n_options: int) -> int:
    """Most weight wins, the lowest code on a tie; -1 with no positive-weight vote."""
    if not any(w > 0 for _, w in votes):
        return -1
    totals = [0.0] * n_options
    for code, w in votes:
        totals[code] += w
    best = max(totals)
    return next(k for k in range(n_options) if totals[k] == best)


def naive_pivotal(
    answers: np.ndarray, weights: np.ndarray, members: np.ndarray, n_options: int
) -> tuple[list[bool], list[bool], list[bool]]:
    """Per item, by trying every alternative vote of the group."""
    decided, removal, flip = [], [], []
    for row in answers:
        votes = [(int(c), float(w)) for c, w in zip(row, weights, strict=True) if c >= 0]
        d = naive_decision(votes, n_options)
        others = [
            (int(c), float(w))
            for c, w, m in zip(row, weights, members, strict=True)
            if c >= 0 and not m
        ]
        group = [
            (int(c), float(w))
            for c, w, m in zip(row, weights, members, strict=True)
            if c >= 0 and m
        ]
        decided.append(d >= 0)
        removed = naive_decision(others, n_options) != d
        flipped = removed or any(
            naive_decision(others + [(o, w) for _, w in group], n_options) != d
            for o in range(n_options)
            if o != d
        )
        removal.append(d >= 0 and removed)
        flip.append(d >= 0 and flipped)
    return decided, removal, flip


def swarm(answers: np.ndarray, families: list[str], n_labels: int = 4) -> Responses:
    labels = "ABCDEFGH"[:n_labels]
    r = Responses.from_arrays(answers=answers, gold=np.zeros(answers.shape[0], int), labels=labels)
    table = pd.DataFrame({"agent": r.agents, "family": families})
    return r.with_agent_attributes(table)


def test_weighted_plurality_ties_and_missing() -> None:
    # Hand-worked: item 1 ties 1-1 between B and C -> B (lower code); item 3 no votes.
    # Catches: a tie broken by agent order or at random, and -1 counted as an option.
    answers = np.array([[1, 2, -1], [0, 0, 3], [-1, -1, -1]])
    assert weighted_plurality(answers).tolist() == [1, 0, -1]
    # weight 3 on agent 2 outvotes two agents of weight 1
    assert weighted_plurality(answers, weights=np.array([1.0, 1.0, 3.0])).tolist() == [1, 3, -1]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(2, 7),
    st.integers(2, 4),
    st.booleans(),
)
def test_kernel_matches_naive_loop(
    seed: int, n_agents: int, n_options: int, weighted: bool
) -> None:
    # Catches: the flip test using the wrong rival (not the strongest, or tie-breaks by code
    # ignored), the group's weight counted on items it did not answer, and removal that
    # leaves no voter not counted as a change.
    from monoculture.governance._pivotal import _pivotal_indicators

    rng = np.random.default_rng(seed)
    answers = rng.integers(-1, n_options, (30, n_agents))
    weights = rng.integers(0, 4, n_agents).astype(float) if weighted else np.ones(n_agents)
    members = rng.random(n_agents) < 0.5
    voted, removal, flip = _pivotal_indicators(answers, weights, members, n_options)
    want = naive_pivotal(answers, weights, members, n_options)
    assert voted.tolist() == want[0]
    assert removal.tolist() == want[1]
    assert flip.tolist() == want[2]


def test_shares_single_point_and_intervals() -> None:
    # Hand-worked: 5 agents, family a = 3 of them. Item 1: a votes A, b,c vote B -> A wins;
    # without a, B wins (removal-pivotal); item 2 like 1 with roles swapped; item 3 a
    # splits 2-1 and b,c join the one: (A A B B B) -> B wins; without a: B; a flipping all
    # to A gives A 3 vs B 2 -> flip-pivotal. So a: removal 2/3, flip 3/3.
    # Catches: shares over all items instead of decided ones, and the flag threshold.
    answers = np.array([[0, 0, 0, 1, 1], [1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [-1] * 5])
    r = swarm(answers, ["a", "a", "a", "b", "c"])
    p = pivotal_power(r, n_resamples=200, rng=0)
    assert p.n_items == 3
    assert p.removal["a"].value == pytest.approx(2 / 3)
    assert p.flip["a"].value == pytest.approx(1.0)
    assert p.single_points_of_failure == ("a",)
    frame = p.to_frame()
    assert frame.loc["a", "single_point_of_failure"]
    for estimate in [*p.removal.values(), *p.flip.values()]:
        assert estimate.ci_low <= estimate.value <= estimate.ci_high


def test_flip_contains_removal_and_invariances() -> None:
    # Catches: results that depend on agent order or on which codes the labels get.
    rng = np.random.default_rng(5)
    answers = rng.integers(0, 4, (200, 6))
    answers[rng.random((200, 6)) < 0.1] = -1
    families = ["x", "x", "y", "y", "y", "z"]
    base = pivotal_power(swarm(answers, families), n_resamples=0)
    for g in base.groups:
        assert base.flip[g].value >= base.removal[g].value
        assert np.isnan(base.flip[g].ci_low)  # no resamples, no interval
    order = np.array([4, 0, 5, 2, 1, 3])
    moved = pivotal_power(swarm(answers[:, order], [families[i] for i in order]), n_resamples=0)
    for g in base.groups:
        assert moved.flip[g].value == base.flip[g].value
        assert moved.removal[g].value == base.removal[g].value


def test_bootstrap_interval_widens_with_level_and_is_seeded() -> None:
    # Catches: the global RNG used (unseeded results) or the level ignored.
    rng = np.random.default_rng(1)
    answers = rng.integers(0, 3, (300, 5))
    r = swarm(answers, ["a", "a", "b", "b", "c"], n_labels=3)
    narrow = pivotal_power(r, n_resamples=400, level=0.5, rng=3).flip["a"]
    wide = pivotal_power(r, n_resamples=400, level=0.99, rng=3).flip["a"]
    again = pivotal_power(r, n_resamples=400, level=0.99, rng=3).flip["a"]
    assert wide.ci_low <= narrow.ci_low <= narrow.ci_high <= wide.ci_high
    assert again == wide


def test_needs_answers_and_the_attribute() -> None:
    # Catches: a correctness-only swarm treated as if every wrong answer were the same.
    r = Responses.from_arrays(correct=[[1, 0], [0, 1]])
    with pytest.raises(InputError, match="answers"):
        pivotal_power(r)
    r = swarm(np.array([[0, 1], [1, 1]]), ["a", "b"], n_labels=2)
    with pytest.raises(InputError, match="constitution"):
        agent_groups(r, "constitution")
    with pytest.raises(InputError, match="weights"):
        pivotal_power(r, weights=[1.0, -1.0])
