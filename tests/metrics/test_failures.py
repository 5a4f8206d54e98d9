"""Systemic failure and the k-of-n curve against enumeration, naive loops and simulation
with a known truth, on data with missing cells."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monoculture import Responses, metrics
from monoculture.metrics._poisson_binomial import poisson_binomial_pmf
from tests.conftest import make_swarm


def _enumerated_pmf(error_rates: np.ndarray) -> np.ndarray:
    """P(k of n agents wrong) for independent agents, by summing over all 2^n outcomes."""
    n = len(error_rates)
    pmf = np.zeros(n + 1)
    for outcome in itertools.product([0, 1], repeat=n):
        o = np.array(outcome)
        pmf[o.sum()] += np.prod(np.where(o == 1, error_rates, 1 - error_rates))
    return pmf


def test_poisson_binomial_equals_enumeration() -> None:
    p = np.array([0.1, 0.5, 0.7, 0.33])
    np.testing.assert_allclose(poisson_binomial_pmf(p), _enumerated_pmf(p), atol=1e-15)


def test_systemic_failure_and_k_of_n_match_naive_loops_with_missing_cells() -> None:
    # Catches an unscored cell counted as an error (or as right), the systemic rate taken
    # over items scored by fewer than 2 agents, the independent rate multiplying the error
    # rates of agents not scored on the item, and a k-of-n curve on incomplete items.
    swarm = make_swarm(seed=6, n_items=600, missing=0.45)
    seen, wrong = swarm.observed, swarm.correct == 0
    n_items, n_agents = swarm.n_items, swarm.n_agents
    error_rate = [wrong[seen[:, a], a].mean() for a in range(n_agents)]
    eligible = all_wrong = 0
    independent = 0.0
    histogram = np.zeros(n_agents + 1)
    for x in range(n_items):
        scored = [a for a in range(n_agents) if seen[x, a]]
        if len(scored) >= 2:
            eligible += 1
            all_wrong += all(wrong[x, a] for a in scored)
            independent += np.prod([error_rate[a] for a in scored])
        if len(scored) == n_agents:
            histogram[sum(wrong[x, a] for a in scored)] += 1
    assert 0 < histogram.sum() < eligible < n_items  # gaps that matter
    assert metrics.systemic_failure_rate(swarm) == pytest.approx(all_wrong / eligible, abs=1e-12)
    assert metrics.independent_systemic_failure_rate(swarm) == pytest.approx(
        independent / eligible, abs=1e-12
    )
    curve = metrics.k_of_n_failure_curve(swarm)
    np.testing.assert_allclose(curve["observed"], histogram / histogram.sum(), atol=1e-12)
    # The baseline uses the error rates on the complete items (enumerated, 2^5 outcomes).
    complete = seen.all(axis=1)
    rates = wrong[complete].mean(axis=0)
    np.testing.assert_allclose(curve["independent"], _enumerated_pmf(rates), atol=1e-12)
    np.testing.assert_allclose(
        curve["observed_at_least"], np.cumsum((histogram / histogram.sum())[::-1])[::-1], atol=1e-12
    )


# A swarm with a known truth: on a share BLIND of items (a shared blind spot) every agent
# is wrong with probability BLIND_ERROR; elsewhere agent a is wrong with BASE_ERROR[a], all
# independently given the item's kind. Cells go missing at random with probability MISSING.
BLIND, BLIND_ERROR = 0.01, 0.6
BASE_ERROR = np.array([0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
MISSING = 0.1


def _blind_spot_swarm(seed: int, n_items: int) -> Responses:
    rng = np.random.default_rng(seed)
    blind = rng.random(n_items) < BLIND
    error = np.where(blind[:, None], BLIND_ERROR, BASE_ERROR[None, :])
    correct = (rng.random(error.shape) >= error).astype(float)
    correct[rng.random(error.shape) < MISSING] = np.nan
    return Responses.from_arrays(correct=correct)


def _truth_all_wrong(scored: np.ndarray) -> float:
    """P(every agent in ``scored`` (a mask) is wrong), by the mixture over item kinds."""
    return float(BLIND * BLIND_ERROR ** scored.sum() + (1 - BLIND) * np.prod(BASE_ERROR[scored]))


def test_the_all_wrong_tail_matches_the_truth_within_its_standard_error() -> None:
    # Catches tail errors that atol=0.01 could not see on probabilities of order 1e-3 to
    # 1e-5: missing cells counted as right on incomplete items (the k-of-n tail then drops
    # by the 47 % of items that are incomplete), as wrong (the systemic rate explodes), a
    # systemic rate over items with one scored agent, the shared blind spot averaged away.
    n_items = 400_000
    swarm = _blind_spot_swarm(seed=7, n_items=n_items)
    n = len(BASE_ERROR)
    complete_share = (1 - MISSING) ** n
    n_complete = int(swarm.observed.all(axis=1).sum())

    # k-of-n tail: P(all n wrong) on complete items, by the mixture; binomial SE over the
    # complete items (~4e-5 here, 7 % of the value); 4 SE.
    curve = metrics.k_of_n_failure_curve(swarm)
    everyone = np.ones(n, dtype=bool)
    truth_tail = _truth_all_wrong(everyone)  # 6.0e-4
    se_tail = np.sqrt(truth_tail * (1 - truth_tail) / n_complete)
    assert abs(curve["observed"].iloc[-1] - truth_tail) < 4 * se_tail
    assert abs(curve["observed_at_least"].iloc[-1] - truth_tail) < 4 * se_tail
    assert n_complete == pytest.approx(n_items * complete_share, rel=0.01)

    # Systemic failure rate with gaps: every scored agent wrong, on items scored by >= 2
    # agents. Truth by enumerating which agents are scored (2^6 subsets, each cell scored
    # with probability 0.9 independently), given at least 2 are.
    by_subset = []
    for mask in itertools.product([False, True], repeat=n):
        scored = np.array(mask)
        if scored.sum() >= 2:
            weight = (1 - MISSING) ** scored.sum() * MISSING ** (n - scored.sum())
            by_subset.append((weight, _truth_all_wrong(scored), np.prod(BASE_ERROR[scored])))
    weights = np.array([w for w, _, _ in by_subset])
    truth_systemic = float(np.dot(weights, [t for _, t, _ in by_subset]) / weights.sum())
    n_eligible = int((swarm.observed.sum(axis=1) >= 2).sum())
    se_systemic = np.sqrt(truth_systemic * (1 - truth_systemic) / n_eligible)  # ~3e-5
    assert abs(metrics.systemic_failure_rate(swarm) - truth_systemic) < 4 * se_systemic

    # The independence baseline: mean over eligible items of the product of the scored
    # agents' marginal error rates. Its truth uses the marginal rates (blind spot mixed in);
    # SE from the spread of that product across scored subsets over the eligible items
    # (~1e-6) plus the error-rate estimates (delta method: relative SE sqrt(sum (1 - q) /
    # (q n_a)), ~0.5 %); 4 SE.
    marginal = BLIND * BLIND_ERROR + (1 - BLIND) * BASE_ERROR
    products = np.array(
        [
            np.prod(marginal[np.array(m)])
            for m in itertools.product([False, True], repeat=n)
            if sum(m) >= 2
        ]
    )
    truth_independent = float(np.dot(weights, products) / weights.sum())
    spread = np.sqrt(np.dot(weights, (products - truth_independent) ** 2) / weights.sum())
    n_scored_per_agent = n_items * (1 - MISSING)
    relative = np.sqrt(np.sum((1 - marginal) / (marginal * n_scored_per_agent)))
    se_independent = np.hypot(spread / np.sqrt(n_eligible), relative * truth_independent)
    assert (
        abs(metrics.independent_systemic_failure_rate(swarm) - truth_independent)
        < 4 * se_independent
    )
    # The blind spot is what the observed rate sees and independence does not.
    assert truth_systemic > truth_independent + 5 * se_systemic


def test_independent_k_of_n_is_binomial() -> None:
    # Catches a curve whose far tail is off (e.g. counts shifted by one k, or the baseline
    # taken from all items including incomplete ones): each share within 4.5 binomial SE
    # (9 comparisons, 7 shares) of the exact binomial, not atol=0.01.
    rng = np.random.default_rng(11)
    correct = (rng.random((40000, 6)) < 0.7).astype(float)
    correct[rng.random(correct.shape) < 0.05] = np.nan
    responses = Responses.from_arrays(correct=correct)
    n_complete = int(responses.observed.all(axis=1).sum())
    curve = metrics.k_of_n_failure_curve(responses)
    binomial = _enumerated_pmf(np.full(6, 0.3))
    standard_error = np.sqrt(binomial * (1 - binomial) / n_complete)
    assert np.all(np.abs(curve["observed"] - binomial) < 4.5 * standard_error)
    # The baseline rests on ~29,000 complete items per agent's rate: far inside that.
    assert np.all(np.abs(curve["independent"] - binomial) < 4.5 * standard_error)
