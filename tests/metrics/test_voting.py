"""Plurality votes against hand-worked cases and enumeration of independent agents."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monoculture import Responses, metrics
from monoculture.metrics._independent_plurality import independent_plurality_probability


def test_independent_plurality_equals_enumeration() -> None:
    # Enumerate every vote profile of 4 agents over 3 options (gold = option 0).
    p = np.array([0.5, 0.3, 0.6, 0.45])
    n_options = 3
    total = 0.0
    for votes in itertools.product(range(n_options), repeat=4):
        v = np.array(votes)
        prob = np.prod(np.where(v == 0, p, (1 - p) / (n_options - 1)))
        counts = np.bincount(v, minlength=n_options)
        winners = np.flatnonzero(counts == counts.max())
        total += prob * (1 / len(winners) if 0 in winners else 0.0)
    assert independent_plurality_probability(p, n_options) == pytest.approx(total, abs=1e-13)


def test_plurality_hand_worked() -> None:
    # Item 0: A A B, gold A -> right. Item 1: A B C, gold B -> three-way tie, credit 1/3.
    # Item 2: C C A, gold A -> wrong (quiet at agreement 2/3 >= 0.6).
    r = Responses.from_arrays(
        answers=np.array([[0, 0, 1], [0, 1, 2], [2, 2, 0]]),
        gold=np.array([0, 1, 0]),
        labels=["A", "B", "C"],
    )
    assert metrics.plurality_accuracy(r) == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert metrics.quiet_failure_share(r, threshold=0.6) == pytest.approx(1.0)
    assert metrics.quiet_failure_share(r, threshold=0.9) == pytest.approx(0.0)


def test_vote_curve_ends_match_single_agents_and_whole_swarm(complete_swarm: Responses) -> None:
    curve = metrics.vote_accuracy_curve(complete_swarm, n_subsets=200, rng=1)
    assert len(curve) == complete_swarm.n_agents
    mean_single = metrics.accuracy(complete_swarm).mean()
    # Size 1 averages random single agents; gold-unknown items do not arise here.
    assert curve["vote_accuracy"].iloc[0] == pytest.approx(mean_single, abs=0.03)
    assert curve["vote_accuracy"].iloc[-1] == pytest.approx(
        metrics.plurality_accuracy(complete_swarm), abs=1e-12
    )
    assert curve["independent_accuracy"].iloc[-1] == pytest.approx(
        metrics.independent_vote_accuracy(complete_swarm), abs=1e-12
    )
