"""Voting rules: planted truth, hand-worked weights, persistence, agent order, oracles."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from monoculture import Responses
from monoculture.aggregate import (
    AGGREGATORS,
    ClusterVote,
    CovarianceWeighted,
    Plurality,
    SurprisinglyPopular,
    WeightedVote,
    aggregator_from_dict,
    ledoit_wolf,
    make_aggregator,
    split_items,
)
from monoculture.errors import InputError
from tests.aggregate.planted import bloc_swarm


def _paired_gain(better: np.ndarray, worse: np.ndarray) -> tuple[float, float]:
    """Mean held-out accuracy gain and its standard error (paired over items)."""
    difference = better - worse
    return float(difference.mean()), float(difference.std(ddof=1) / math.sqrt(len(difference)))


@pytest.mark.parametrize("seed", [0, 1])
def test_correlation_aware_rules_do_not_follow_a_cloned_bloc(seed: int) -> None:
    # Catches correlation-aware rules that still count a bloc of copies once per member.
    # Five clones (right 60 %, sharing each wrong answer) and four independent agents
    # (right 60 %): plurality follows the bloc (about 0.6); one bloc vote plus four
    # independent votes is right far more often. Gains must exceed 5 paired SEs and 0.1.
    responses = bloc_swarm(4000, seed=seed)
    train, test = split_items(responses, seed=seed)
    correct = {
        name: make_aggregator(name).fit(train).predict(test).correct
        for name in ("plurality", "weighted", "cluster", "covariance")
    }
    bloc_accuracy = test.correct[:, 0].mean()
    for follower in ("plurality", "weighted"):
        assert abs(correct[follower].mean() - bloc_accuracy) < 0.03, follower
    for rule in ("cluster", "covariance"):
        gain, se = _paired_gain(correct[rule], correct["plurality"])
        assert gain > max(5 * se, 0.1), (rule, gain, se)


def test_covariance_weights_split_one_weight_among_copies() -> None:
    # Catches a covariance step that is skipped (weights = accuracy only): the five
    # clones together must weigh about as much as one independent agent of their accuracy.
    responses = bloc_swarm(6000, bloc_accuracy=0.6, independent_accuracy=0.6, seed=2)
    weights = CovarianceWeighted().fit(responses).weights_
    bloc, solo = weights[:5].sum(), weights[5:].mean()
    assert bloc == pytest.approx(solo, rel=0.35)


def test_weighted_vote_weights_by_hand() -> None:
    # Catches the wrong log-odds (missing log(K - 1), no Laplace smoothing). Agent 0 is
    # right on 3 of 4 items: p = (3 + 1) / (4 + 2) = 2/3, weight log(2/3 * 2 / (1/3)) =
    # log 4. Agent 1 is right on 1 of 4: p = 1/3 = 1/K, weight 0.
    answers = [[0, 1], [1, 1], [2, 0], [0, 0]]
    responses = Responses.from_arrays(answers=answers, gold=[0, 1, 2, 1], labels=["a", "b", "c"])
    weights = WeightedVote().fit(responses).weights_
    np.testing.assert_allclose(weights, [math.log(4), 0.0])


def test_plurality_ties_are_broken_uniformly() -> None:
    # Catches a tie-break that always picks the lowest code (option "A" would win every
    # tie, a position bias of the aggregator itself). 4,000 two-way ties: each side wins
    # within 4 binomial SEs of half.
    answers = np.tile([[0, 1]], (4000, 1))
    responses = Responses.from_arrays(answers=answers, gold=[0] * 4000)
    share = (Plurality().fit_predict(responses).answer == 0).mean()
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / 4000)


@pytest.mark.parametrize("name", [n for n in AGGREGATORS if n != "surprisingly_popular"])
def test_saved_and_restored_aggregators_decide_the_same(name: str) -> None:
    # Catches a parameter left out of to_dict (the restored model would decide otherwise).
    responses = bloc_swarm(600, seed=5)
    train, test = split_items(responses, seed=5)
    fitted = make_aggregator(name).fit(train)
    restored = aggregator_from_dict(json.loads(json.dumps(fitted.to_dict())))
    before, after = fitted.predict(test), restored.predict(test)
    np.testing.assert_array_equal(before.answer, after.answer)
    np.testing.assert_allclose(before.scores, after.scores)


@pytest.mark.parametrize("name", [n for n in AGGREGATORS if n != "surprisingly_popular"])
def test_agent_order_does_not_change_decisions(name: str) -> None:
    # Catches predict reading columns by position rather than by agent name.
    responses = bloc_swarm(600, seed=6)
    train, test = split_items(responses, seed=6)
    fitted = make_aggregator(name).fit(train)
    shuffled = test.select(agents=np.random.default_rng(0).permutation(test.n_agents))
    np.testing.assert_array_equal(fitted.predict(test).answer, fitted.predict(shuffled).answer)


def test_predict_refuses_other_agents_and_labels() -> None:
    # Catches silently scoring a swarm with parameters fitted on another one.
    responses = bloc_swarm(200, seed=7)
    fitted = WeightedVote().fit(responses)
    with pytest.raises(InputError, match="missing"):
        fitted.predict(responses.select(agents=[0, 1, 2]))
    other = Responses.from_arrays(answers=[[0, 1]] * 3, gold=[0] * 3, labels=["x", "y"])
    with pytest.raises(InputError, match="call fit"):
        WeightedVote().predict(other)


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(InputError, match="choose from plurality, weighted"):
        make_aggregator("majority")


def test_ledoit_wolf_equals_scikit_learn() -> None:
    # Catches a wrong shrinkage intensity (b2/d2 terms) in the covariance weighting.
    covariance = pytest.importorskip("sklearn.covariance", reason="scikit-learn oracle")
    x = np.random.default_rng(0).normal(size=(40, 12)) @ np.diag(np.linspace(0.5, 2, 12))
    x = x - x.mean(axis=0)
    ours, shrinkage = ledoit_wolf(x)
    theirs = covariance.LedoitWolf(assume_centered=True).fit(x)
    assert shrinkage == pytest.approx(theirs.shrinkage_, rel=1e-10)
    np.testing.assert_allclose(ours, theirs.covariance_, rtol=1e-10)


def test_cluster_vote_puts_the_clones_in_one_cluster() -> None:
    # Catches clustering on raw agreement or on the wrong matrix: the clones share one
    # cluster and the independent agents are not in it.
    fitted = ClusterVote().fit(bloc_swarm(3000, seed=8))
    clusters = fitted.clusters_
    assert len(set(clusters[:5])) == 1
    assert clusters[0] not in set(clusters[5:])


def _predictions(shares: list[list[dict[str, float]]]) -> np.ndarray:
    return np.array([[json.dumps(s) for s in row] for row in shares], dtype=object)


def test_surprisingly_popular_follows_the_informed_minority() -> None:
    # Prelec et al.'s Philadelphia question, made up here: "Is Philadelphia the capital of
    # Pennsylvania?" 6 agents say yes (wrong) and expect 90 % yes; 4 say no (right) and
    # expect the majority to say yes (75 % yes). Votes: yes 0.6, no 0.4; mean prediction:
    # yes (6 * 0.9 + 4 * 0.75) / 10 = 0.84, no 0.16. "no" is surprisingly popular.
    shares = [[{"yes": 0.9, "no": 0.1}] * 6 + [{"yes": 0.75, "no": 0.25}] * 4]
    responses = Responses.from_arrays(
        answers=[[0] * 6 + [1] * 4],
        gold=[1],
        labels=["yes", "no"],
        cell_attrs={"predicted_shares": _predictions(shares)},
    )
    decisions = SurprisinglyPopular().fit_predict(responses)
    assert responses.labels[decisions.answer[0]] == "no"
    assert Plurality().fit_predict(responses).answer[0] == 0  # the vote says yes
    np.testing.assert_allclose(decisions.scores[0], [0.0, 1.0])  # surprise only for "no"


def test_surprisingly_popular_without_predictions_fails_up_front() -> None:
    responses = Responses.from_arrays(answers=[[0, 1]], gold=[0])
    with pytest.raises(InputError, match="predicted_shares"):
        SurprisinglyPopular().fit(responses)


def test_surprisingly_popular_rejects_a_malformed_prediction() -> None:
    shares = np.array([['{"maybe": 1}', '{"yes": 1}']], dtype=object)
    responses = Responses.from_arrays(
        answers=[[0, 1]], gold=[0], labels=["yes", "no"], cell_attrs={"predicted_shares": shares}
    )
    with pytest.raises(InputError, match="not answer labels"):
        SurprisinglyPopular().fit(responses)
