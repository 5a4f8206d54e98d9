"""Independence baselines model exactly what the observed figures measure.

On swarms whose agents really are independent, with unparsed answers, items of unknown
gold and missing cells, every "if independent" figure must equal its observed counterpart
within sampling error. Catches: a baseline that counts an unparsed answer as a wrong vote
(the observed vote lets it abstain: 0.714 against 0.74 in the issue's example), one that
averages over items the observed figure leaves out (unknown gold), and one that ignores
missing cells.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from monoculture import Responses, analyze, metrics
from monoculture.metrics._independent_plurality import (
    EXACT_LIMIT,
    credit_table,
    monte_carlo_se,
)


def independent_swarm(
    seed: int,
    *,
    n_items: int = 20_000,
    n_options: int = 4,
    accuracies: tuple[float, ...] = (0.45, 0.5, 0.55, 0.6, 0.5, 0.4, 0.65),
    unparsed: float = 0.05,
    missing: float = 0.1,
    unknown_gold: float = 0.1,
) -> Responses:
    """Agents that are independent by construction: each cell is right with the agent's
    rate, unparsed with ``unparsed``, else a uniformly drawn wrong option."""
    rng = np.random.default_rng(seed)
    n_agents = len(accuracies)
    gold = rng.integers(0, n_options, n_items)
    u = rng.random((n_items, n_agents))
    right = u < np.array(accuracies)
    no_answer = (~right) & (u > 1 - unparsed)
    wrong = (gold[:, None] + rng.integers(1, n_options, (n_items, n_agents))) % n_options
    answers = np.where(right, gold[:, None], np.where(no_answer, -1, wrong))
    correct = right.astype(np.float64)
    correct[rng.random((n_items, n_agents)) < missing] = np.nan
    gold_known = np.where(rng.random(n_items) < unknown_gold, -1, gold)
    return Responses.from_arrays(
        correct, answers=answers, gold=gold_known, labels=[chr(65 + k) for k in range(4)]
    )


def test_independent_vote_baseline_equals_the_vote_of_independent_agents() -> None:
    swarm = independent_swarm(1)
    observed = metrics.plurality_accuracy(swarm)
    baseline = metrics.independent_vote_accuracy(swarm)
    n_scored = int(((swarm.gold >= 0) & swarm.observed.any(axis=1)).sum())  # type: ignore[operator]
    se = np.sqrt(observed * (1 - observed) / n_scored)  # binomial SE of the observed share
    assert abs(observed - baseline) < 4 * se, (observed, baseline, se)


def test_the_old_baseline_would_have_failed_this_check() -> None:
    # The same swarm scored as if unparsed answers were wrong votes and every item counted:
    # the check above must be able to tell the two apart, or it proves nothing.
    swarm = independent_swarm(1)
    observed = metrics.plurality_accuracy(swarm)
    assert swarm.answers is not None
    as_wrong_votes = Responses.from_arrays(
        np.where(swarm.observed, swarm.correct, np.nan),
        answers=np.where(
            swarm.answers >= 0, swarm.answers, (np.asarray(swarm.gold)[:, None] + 1) % 4
        ),
        gold=swarm.gold,
        labels=swarm.labels,
    )
    naive = metrics.independent_vote_accuracy(as_wrong_votes)  # no abstention in the model
    n_scored = int(((swarm.gold >= 0) & swarm.observed.any(axis=1)).sum())  # type: ignore[operator]
    se = np.sqrt(observed * (1 - observed) / n_scored)
    assert observed - naive > 4 * se, (observed, naive, se)


def test_systemic_failure_and_k_of_n_baselines_match_independent_agents() -> None:
    swarm = independent_swarm(2, missing=0.1)
    observed = metrics.systemic_failure_rate(swarm)
    baseline = metrics.independent_systemic_failure_rate(swarm)
    n_eligible = int((swarm.observed.sum(axis=1) >= 2).sum())
    se = np.sqrt(baseline * (1 - baseline) / n_eligible)
    assert abs(observed - baseline) < 4 * se, (observed, baseline, se)
    curve = metrics.k_of_n_failure_curve(swarm)
    n_complete = int(swarm.complete_items.sum())
    se_k = np.sqrt(curve["independent"] * (1 - curve["independent"]) / n_complete)
    assert (np.abs(curve["observed"] - curve["independent"]) < 4 * se_k + 1e-12).all()


def test_same_wrong_baseline_matches_uniform_independent_errors() -> None:
    swarm = independent_swarm(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = analyze(swarm, bootstrap=0).summary
    observed = summary.value("mean_same_wrong")
    baseline = summary.mean_same_wrong_independent
    assert observed is not None
    assert baseline is not None
    # Each pair is both wrong on about n * 0.5 * 0.5 * 0.81 items; the mean over 21 pairs of
    # rates near 1/3 has SE about sqrt(p (1 - p) / 3,000 / 21).
    se = np.sqrt(baseline * (1 - baseline) / 3000 / 21)
    assert abs(observed - baseline) < 5 * se, (observed, baseline, se)


def test_large_swarms_report_their_monte_carlo_error() -> None:
    # Catches "exact" claimed above EXACT_LIMIT: the figure then carries its SE bound, and
    # the Monte Carlo table agrees with the exact one where both exist.
    assert monte_carlo_se(EXACT_LIMIT) is None
    se = monte_carlo_se(EXACT_LIMIT + 1)
    assert se is not None
    assert 0 < se < 0.02
    exact = credit_table(40, 3)
    from monoculture.metrics import _independent_plurality as module

    estimated = module._credit_table_monte_carlo(40, 3)
    assert np.abs(estimated - exact).max() < 6 * 0.5 / np.sqrt(module._MONTE_CARLO_DRAWS)


@pytest.mark.parametrize("n_options", [2, 3, 5])
def test_credit_table_equals_enumeration(n_options: int) -> None:
    # Catches an off-by-one in the tie rule or the multinomial weights: every vote split of
    # m wrong votes over the wrong options, enumerated with its probability.
    from itertools import product

    n_wrong = n_options - 1
    table = credit_table(6, n_wrong)
    for c in range(7):
        for m in range(7 - c):
            total = 0.0
            for votes in product(range(n_wrong), repeat=m):
                counts = np.bincount(np.array(votes, dtype=int), minlength=n_wrong)
                top = counts.max(initial=0)
                if c == 0:
                    credit = 0.0
                elif top < c:
                    credit = 1.0
                elif top == c:
                    credit = 1.0 / (1 + int((counts == c).sum()))
                else:
                    credit = 0.0
                total += credit / n_wrong**m
            assert table[c, m] == pytest.approx(total, abs=1e-12), (c, m)
