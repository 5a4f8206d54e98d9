"""Swarm-level metrics against statsmodels, krippendorff, brute force and hand-worked cases."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from monoculture import Responses, metrics
from monoculture.metrics._independent_plurality import independent_plurality_probability
from monoculture.metrics._poisson_binomial import poisson_binomial_pmf
from tests.conftest import make_swarm


def test_fleiss_kappa_equals_statsmodels(complete_swarm: Responses) -> None:
    assert complete_swarm.answers is not None
    rows = (complete_swarm.answers >= 0).all(axis=1)
    answers = complete_swarm.answers[rows]
    table = np.stack([(answers == k).sum(axis=1) for k in range(4)], axis=1)
    expected = sm_fleiss_kappa(table, method="fleiss")
    assert metrics.fleiss_kappa(complete_swarm) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_equals_the_krippendorff_package(swarm: Responses) -> None:
    assert swarm.answers is not None
    data = np.where(swarm.observed & (swarm.answers >= 0), swarm.answers, np.nan).T
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert metrics.krippendorff_alpha(swarm) == pytest.approx(expected, abs=1e-12)


def _icc_naive(errors: np.ndarray) -> float:
    """ICC(3,1) from the textbook two-way ANOVA, with explicit loops."""
    n, k = errors.shape
    grand = errors.mean()
    ss_rows = sum(k * (errors[i].mean() - grand) ** 2 for i in range(n))
    ss_cols = sum(n * (errors[:, j].mean() - grand) ** 2 for j in range(k))
    ss_total = sum((errors[i, j] - grand) ** 2 for i in range(n) for j in range(k))
    ss_err = ss_total - ss_rows - ss_cols
    ms_rows, ms_err = ss_rows / (n - 1), ss_err / ((n - 1) * (k - 1))
    return (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err)


def test_icc_equals_the_anova_formula(swarm: Responses) -> None:
    complete = swarm.complete_only()
    assert metrics.icc(swarm) == pytest.approx(_icc_naive(complete.errors), abs=1e-12)
    n = swarm.n_agents
    assert metrics.effective_agents(swarm) == pytest.approx(
        n / (1 + (n - 1) * _icc_naive(complete.errors)), abs=1e-12
    )


def test_independent_agents_count_as_all_of_them() -> None:
    rng = np.random.default_rng(7)
    correct = (rng.random((20000, 8)) < 0.6).astype(float)
    r = Responses.from_arrays(correct=correct)
    assert metrics.icc(r) == pytest.approx(0.0, abs=0.01)
    assert metrics.effective_agents(r) == pytest.approx(8.0, rel=0.08)


def test_poisson_binomial_equals_enumeration() -> None:
    p = np.array([0.1, 0.5, 0.7, 0.33])
    brute = np.zeros(5)
    for outcome in itertools.product([0, 1], repeat=4):
        o = np.array(outcome)
        brute[o.sum()] += np.prod(np.where(o == 1, p, 1 - p))
    np.testing.assert_allclose(poisson_binomial_pmf(p), brute, atol=1e-15)


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


def test_systemic_failure_and_k_of_n(complete_swarm: Responses) -> None:
    errors = complete_swarm.errors
    n = complete_swarm.n_agents
    assert metrics.systemic_failure_rate(complete_swarm) == pytest.approx(
        np.mean(errors.sum(axis=1) == n)
    )
    curve = metrics.k_of_n_failure_curve(complete_swarm)
    assert curve["observed"].iloc[-1] == pytest.approx(
        metrics.systemic_failure_rate(complete_swarm)
    )
    rates = errors.mean(axis=0)
    assert curve["independent"].iloc[-1] == pytest.approx(np.prod(rates), rel=1e-12)
    assert metrics.independent_systemic_failure_rate(complete_swarm) == pytest.approx(
        np.prod(rates), rel=1e-12
    )
    assert curve["observed"].sum() == pytest.approx(1.0)
    assert curve["independent"].sum() == pytest.approx(1.0)


def test_independent_k_of_n_is_binomial() -> None:
    rng = np.random.default_rng(11)
    correct = (rng.random((40000, 6)) < 0.7).astype(float)
    curve = metrics.k_of_n_failure_curve(Responses.from_arrays(correct=correct))
    np.testing.assert_allclose(curve["observed"], curve["independent"], atol=0.01)


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


def test_accuracy_and_coverage(swarm: Responses) -> None:
    acc = metrics.accuracy(swarm).to_numpy()
    cov = metrics.coverage(swarm).to_numpy()
    for a in range(swarm.n_agents):
        seen = swarm.observed[:, a]
        assert acc[a] == pytest.approx(swarm.correct[seen, a].mean(), abs=1e-15)
        assert cov[a] == pytest.approx(seen.mean(), abs=1e-15)


def test_a_swarm_of_clones_is_one_agent() -> None:
    base = make_swarm(seed=5, missing=0.0)
    clones = np.repeat(base.correct[:, :1], 6, axis=1).astype(float)
    r = Responses.from_arrays(correct=clones)
    assert metrics.effective_agents(r) == pytest.approx(1.0, abs=1e-12)
    assert metrics.systemic_failure_rate(r) == pytest.approx(1 - clones[:, 0].mean())
