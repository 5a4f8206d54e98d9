"""Diverse selection, the minority report and the held-out comparison."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from monoculture import Responses
from monoculture.aggregate import (
    compare_aggregators,
    compare_selection,
    effective_supporters,
    minority_report,
    select_agents,
    top_k_agents,
    wilson_interval,
)
from monoculture.errors import InputError
from tests.aggregate.planted import bloc_swarm


def _naive_vote_accuracy(answers: np.ndarray, gold: np.ndarray, members: tuple[int, ...]) -> float:
    """Plurality credit by loops: 1 / (number of tied winners) when gold is among them."""
    total = 0.0
    for i, truth in enumerate(gold):
        votes: dict[int, int] = {}
        for a in members:
            if answers[i, a] >= 0:
                votes[answers[i, a]] = votes.get(answers[i, a], 0) + 1
        if votes:
            top = max(votes.values())
            winners = [label for label, count in votes.items() if count == top]
            total += (truth in winners) / len(winners)
    return total / len(gold)


def _naive_systemic(correct: np.ndarray, members: tuple[int, ...]) -> float:
    eligible = failed = 0
    for row in correct:
        eligible += 1
        failed += all(row[a] == 0 for a in members)
    return failed / eligible


@pytest.mark.parametrize("objective", ["vote_accuracy", "systemic_failure"])
def test_exact_search_finds_the_brute_force_optimum(objective: str) -> None:
    # Catches an exact search that skips subsets or scores them wrongly: every 3-subset of
    # 7 agents scored by loops here; the value found must equal the best of them.
    responses = bloc_swarm(300, n_bloc=3, n_independent=4, seed=11)
    answers, gold = responses.answers, responses.gold
    subsets = list(itertools.combinations(range(7), 3))
    if objective == "vote_accuracy":
        best = max(_naive_vote_accuracy(answers, gold, s) for s in subsets)
    else:
        best = min(_naive_systemic(responses.correct, s) for s in subsets)
    chosen = select_agents(responses, 3, objective=objective, search="exact")
    assert chosen.search == "exact"
    assert chosen.subsets_scored == 35
    assert chosen.value == pytest.approx(best, abs=1e-12)
    positions = tuple(list(responses.agents).index(a) for a in chosen.agents)
    if objective == "vote_accuracy":
        assert _naive_vote_accuracy(answers, gold, positions) == pytest.approx(best, abs=1e-12)


def test_greedy_avoids_the_clones_and_never_beats_exact() -> None:
    # Catches greedy selection that adds copies of the best agent: with a cloned bloc a
    # little more accurate than everyone else, the top-3 are three clones; greedy takes one.
    responses = bloc_swarm(3000, bloc_accuracy=0.65, independent_accuracy=0.6, seed=12)
    greedy = select_agents(responses, 3, search="greedy")
    exact = select_agents(responses, 3, search="exact")
    assert sum(a.startswith("bloc") for a in greedy.agents) == 1
    assert sum(a.startswith("bloc") for a in top_k_agents(responses, 3)) == 3
    assert greedy.value <= exact.value + 1e-12


def test_selection_comparison_reports_diverse_and_top_k() -> None:
    # Catches a comparison that scores on the training items or mixes up the sets.
    responses = bloc_swarm(3000, bloc_accuracy=0.65, independent_accuracy=0.6, seed=13)
    result = compare_selection(responses, 3, seed=13)
    rows = {row["set"]: row for row in result.rows}
    assert set(rows) == {"diverse", "top_k", "all"}
    assert rows["diverse"]["vote_accuracy"] > rows["top_k"]["vote_accuracy"]
    assert rows["diverse"]["mean_error_consistency"] < rows["top_k"]["mean_error_consistency"]
    assert result.split["n_test"] == 1500
    json.dumps(result.to_dict())


@pytest.mark.parametrize("k", [0, 10, 2.5])
def test_k_outside_the_swarm_is_refused(k: object) -> None:
    responses = bloc_swarm(50, seed=1)
    with pytest.raises(InputError, match="from 1 to the number of agents"):
        select_agents(responses, k)  # type: ignore[arg-type]


def test_effective_supporters_against_a_loop() -> None:
    # Catches a quadratic form over the wrong agents or a missing diagonal.
    rng = np.random.default_rng(0)
    kappa = rng.uniform(0, 1, (6, 6))
    kappa = (kappa + kappa.T) / 2
    np.fill_diagonal(kappa, 1.0)
    supporters = rng.random((50, 6)) < 0.5
    expected = []
    for row in supporters:
        members = np.flatnonzero(row)
        total = sum(kappa[i, j] for i in members for j in members)
        expected.append(len(members) ** 2 / total if total else 0.0)
    np.testing.assert_allclose(effective_supporters(supporters, kappa), expected, rtol=1e-12)


def test_minority_report_discounts_a_dissenting_bloc() -> None:
    # Catches counting each clone as an independent supporter: three copies dissent
    # against five independent agents; the dissent has support 3/8 but about one
    # effective supporter; the consensus about five.
    bloc = [1, 1, 1]
    solo = [0, 0, 0, 0, 0]
    answers = np.array([bloc + solo] * 4 + [[0] * 3 + [1, 2, 3, 0, 1]] * 4)
    kappa = np.eye(8)
    kappa[:3, :3] = 1.0
    responses = Responses.from_arrays(answers=answers, gold=[0] * 8, labels=list("ABCD"))
    table = minority_report(responses, consistency=kappa).table
    first = table.iloc[0]
    assert (first["consensus"], first["dissent"]) == ("A", "B")
    assert first["dissent_support"] == pytest.approx(3 / 8)
    assert first["dissent_effective"] == pytest.approx(1.0)
    assert first["consensus_effective"] == pytest.approx(5.0)
    assert first["dissent_agents"] == "agent_0, agent_1, agent_2"


def test_wilson_interval_equals_statsmodels() -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion", reason="oracle")
    for successes, n in [(0, 10), (8, 10), (517, 1000)]:
        expected = proportion.proportion_confint(successes, n, alpha=0.05, method="wilson")
        np.testing.assert_allclose(wilson_interval(successes, n), expected, rtol=1e-10)


def test_comparison_json_has_every_method_and_the_split() -> None:
    # Catches a JSON shape that drifts from the documented one.
    result = compare_aggregators(bloc_swarm(400, seed=3), seed=3).to_dict()
    names = [m["name"] for m in result["methods"]]
    assert names == ["plurality", "weighted", "dawid_skene", "one_coin", "cluster", "covariance"]
    for method in result["methods"]:
        accuracy = method["accuracy"]
        assert accuracy["ci_low"] <= accuracy["value"] <= accuracy["ci_high"]
        assert {"systemic_failure", "quiet_failure", "mean_support"} <= set(method)
    assert result["split"]["n_train"] + result["split"]["n_test"] == 400
    json.dumps(result)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"train_share": 1.0}, "strictly between 0 and 1"),
        ({"train_share": 0}, "strictly between 0 and 1"),
        ({"methods": ["vote"]}, "unknown aggregation method"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        compare_aggregators(bloc_swarm(40, seed=1), **options)  # type: ignore[arg-type]


def test_too_few_training_items_names_how_many() -> None:
    # 12 items, 0.5 split: 6 training items, below the 10 a learning method needs.
    with pytest.raises(InputError, match="at least 10 training items"):
        compare_aggregators(bloc_swarm(12, seed=1), methods=["weighted"])
    compare_aggregators(bloc_swarm(12, seed=1), methods=["plurality"])  # learns nothing
