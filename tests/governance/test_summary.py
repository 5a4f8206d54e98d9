"""The governance summary of an analysis: groups, power, concentration, pivotal shares,
policy results, against references computed here by loops and enumeration."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses, analyze
from monoculture.governance import governance_attributes, governance_summary, parse_policy

FAMILIES = ["red", "red", "red", "red", "blue", "blue", "green", "gold", "gold"]
ACCESS = ["open", "api", "open", "api", "open", "open", "api", "api", "api"]


def _swarm(seed: int = 5, n_items: int = 120) -> Responses:
    """9 agents, 4 options; the four ``red`` agents copy one shared answer most of the time."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 4, n_items)
    answers = np.where(
        rng.random((n_items, 9)) < 0.55, gold[:, None], rng.integers(0, 4, (n_items, 9))
    )
    shared = np.where(rng.random(n_items) < 0.6, gold, rng.integers(0, 4, n_items))
    copy = rng.random((n_items, 4)) < 0.8
    answers[:, :4] = np.where(copy, shared[:, None], answers[:, :4])
    answers[rng.random((n_items, 9)) < 0.05] = -1  # some unanswered
    responses = Responses.from_arrays(answers=answers, gold=gold, labels="ABCD")
    table = pd.DataFrame(
        {
            "agent": responses.agents,
            "family": FAMILIES,
            "access": ACCESS,
            "params_b": [7, 13, 70, 8, 7, 7, 12, 34, 6],
            "run": [f"r{k}" for k in range(9)],
        }
    )
    return responses.with_agent_attributes(table)


def _plurality(votes: list[int]) -> int:
    """Plurality of answer codes (-1 skipped), ties to the lowest code; -1 if nobody voted."""
    counts: dict[int, int] = {}
    for v in votes:
        if v >= 0:
            counts[v] = counts.get(v, 0) + 1
    if not counts:
        return -1
    best = max(counts.values())
    return min(c for c, k in counts.items() if k == best)


def _pivotal_by_loop(responses: Responses, groups: list[str]) -> dict[str, tuple[float, float]]:
    """Removal and flip shares per group, by trying every alternative on every item."""
    answers = np.asarray(responses.answers)
    n_options = len(responses.labels)
    out = {}
    for g in sorted(set(groups)):
        members = [k for k, name in enumerate(groups) if name == g]
        removal = flip = decided = 0
        for row in answers.tolist():
            d = _plurality(row)
            if d < 0:
                continue
            decided += 1
            others = [v for k, v in enumerate(row) if k not in members]
            removed = _plurality(others) != d
            flipped = removed or any(
                _plurality([o if (k in members and v >= 0) else v for k, v in enumerate(row)]) != d
                for o in range(n_options)
                if o != d
            )
            removal += removed
            flip += flipped
        out[g] = (removal / decided, flip / decided)
    return out


def _bloc_power(sizes: dict[str, int]) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """Banzhaf shares and Shapley-Shubik indices of the majority game of blocs, enumerated."""
    names = list(sizes)
    total = sum(sizes.values())
    quota = total // 2 + 1
    swings = dict.fromkeys(names, 0)
    for r in range(len(names) + 1):
        for coalition in itertools.combinations(names, r):
            weight = sum(sizes[x] for x in coalition)
            for x in names:
                if x not in coalition and weight < quota <= weight + sizes[x]:
                    swings[x] += 1
    all_swings = sum(swings.values())
    banzhaf = {x: Fraction(swings[x], all_swings) for x in names}
    pivots = dict.fromkeys(names, 0)
    for order in itertools.permutations(names):
        weight = 0
        for x in order:
            weight += sizes[x]
            if weight >= quota:
                pivots[x] += 1
                break
    shapley = {x: Fraction(pivots[x], math.factorial(len(names))) for x in names}
    return banzhaf, shapley


def test_attributes_chosen_categorical_preferred_first() -> None:
    # Catches: a numeric attribute (params_b) treated as groups, a per-agent id ("run")
    # summarised as if it were blocs, and an attribute that names no controller (access)
    # shown when family is there; without family, access is the one shown.
    responses = _swarm()
    chosen, skipped = governance_attributes(responses)
    assert chosen == ["family"]
    reasons = {s["attribute"]: s["reason"] for s in skipped}
    assert reasons["params_b"] == "numeric, not a grouping"
    assert reasons["run"] == "every agent is its own group (no blocs)"
    assert reasons["access"].startswith("not one of family, developer")
    plain = Responses.from_arrays(answers=responses.answers, gold=responses.gold, labels="ABCD")
    without = plain.with_agent_attributes(pd.DataFrame({"agent": plain.agents, "access": ACCESS}))
    assert governance_attributes(without)[0] == ["access"]


def test_summary_values_match_independent_references() -> None:
    # Catches: power computed on the agents instead of the blocs, group names and values
    # misaligned after sorting, pivotal shares over all items instead of decided ones, and
    # the removal/flip columns swapped.
    responses = _swarm()
    summary = governance_summary(responses, attributes=["family", "access"], bootstrap=200, seed=3)
    assert summary is not None
    assert summary["n_agents"] == 9
    assert summary["quota"] == 5
    by_attribute = {entry["attribute"]: entry for entry in summary["attributes"]}
    assert list(by_attribute) == ["family", "access"]
    for attribute, labels in (("family", FAMILIES), ("access", ACCESS)):
        entry = by_attribute[attribute]
        sizes = {g: labels.count(g) for g in sorted(set(labels))}
        banzhaf, shapley = _bloc_power(sizes)
        pivotal = _pivotal_by_loop(responses, labels)
        rows = {row["group"]: row for row in entry["groups"]}
        assert set(rows) == set(sizes)
        for g, row in rows.items():
            assert row["n_agents"] == sizes[g]
            assert row["vote_share"] == pytest.approx(sizes[g] / 9)
            assert row["banzhaf"] == pytest.approx(float(banzhaf[g]), abs=1e-12)
            assert row["shapley_shubik"] == pytest.approx(float(shapley[g]), abs=1e-12)
            removal, flip = pivotal[g]
            assert row["removal_pivotal"]["value"] == pytest.approx(removal, abs=1e-12)
            assert row["flip_pivotal"]["value"] == pytest.approx(flip, abs=1e-12)
            for kind in ("removal_pivotal", "flip_pivotal"):
                e = row[kind]
                assert e["ci_low"] <= e["value"] <= e["ci_high"]
            assert row["single_point_of_failure"] == (flip > 0.5)
        flips = [rows[g]["flip_pivotal"]["value"] for g in rows]
        assert entry["single_points_of_failure"] == [
            g for g in rows if rows[g]["flip_pivotal"]["value"] > 0.5
        ]
        hhi = sum(float(b) ** 2 for b in banzhaf.values())
        assert entry["hhi_banzhaf"] == pytest.approx(hhi, abs=1e-12)
        assert entry["effective_groups_banzhaf"] == pytest.approx(1 / hhi, abs=1e-9)
        assert entry["hhi_shapley_shubik"] == pytest.approx(
            sum(float(s) ** 2 for s in shapley.values()), abs=1e-12
        )
        assert max(flips) <= 1.0
    # the copying red family (4 of 9 votes) decides most items by flipping
    assert by_attribute["family"]["single_points_of_failure"] == ["red"]


def test_absent_without_categorical_attributes() -> None:
    # Catches: an empty governance part (or a crash) for data with no attributes, and a
    # numeric-only attribute table summarised as groups.
    plain = Responses.from_arrays(answers=[[0, 1, 1], [1, 1, 0]], gold=[0, 1], labels="AB")
    assert governance_summary(plain, bootstrap=0) is None
    assert analyze(plain, bootstrap=0).governance is None
    numeric = plain.with_agent_attributes(
        pd.DataFrame({"agent": plain.agents, "temperature": [0.0, 0.7, 1.0]})
    )
    assert analyze(numeric, bootstrap=0).governance is None
    assert analyze(numeric, bootstrap=0).to_dict()["governance"] is None


def test_analyze_carries_it_into_the_document_and_respects_options() -> None:
    # Catches: the summary computed with other resamples than --bootstrap, dropped from the
    # JSON document, or computed when switched off.
    responses = _swarm(n_items=60)
    result = analyze(responses, bootstrap=30, seed=2)
    assert result.governance is not None
    assert "30 resamples" in result.governance["pivotal_method"]
    assert result.to_dict()["governance"] == result.governance
    assert analyze(responses, bootstrap=0, governance=False).governance is None
    only = analyze(responses, bootstrap=0, governance_attributes=["access"])
    assert only.governance is not None
    assert [e["attribute"] for e in only.governance["attributes"]] == ["access"]


def test_bad_governance_options_fail_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches: an unknown attribute or a wrong policy type found only after the bootstrap
    # has run (minutes on large data), or not named in the message.
    import monoculture.analysis as analysis

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("analysis started before the options were checked")

    monkeypatch.setattr(analysis, "_measure", no_work)
    responses = _swarm(n_items=20)
    with pytest.raises(InputError, match=r"governance_attributes.*'provider'"):
        analyze(responses, governance_attributes=["provider"])
    with pytest.raises(InputError, match="`policy` must be a Policy"):
        analyze(responses, policy="policy.toml")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="governance"):
        analyze(responses, governance=False, governance_attributes=["family"])


def test_policy_results_match_a_direct_evaluation() -> None:
    # Catches: policy results measured with analyze's settings instead of the policy's own
    # (they would differ from `monoculture check`), and a failing policy raising.
    from monoculture.governance import evaluate_policy

    policy = parse_policy(
        {
            "settings": {"bootstrap": 50, "seed": 1},
            "rules": {"min_agents": 5, "max_pivotal_share": 0.5, "min_families": 5},
        }
    )
    responses = _swarm(n_items=80)
    summary = governance_summary(responses, policy=policy, bootstrap=10)
    assert summary is not None
    direct = evaluate_policy(policy, responses, target_name="<responses>").to_dict()
    assert summary["policy"] == direct
    statuses = [r["status"] for r in summary["policy"]["rules"]]
    assert statuses == ["pass", "fail", "fail"]  # red is pivotal; 4 families < 5
    assert summary["policy"]["passed"] is False


def test_correctness_only_data_have_power_but_no_pivotal_shares() -> None:
    # Catches: a crash on data without answers, or pivotal shares invented from correctness.
    responses = Responses.from_arrays(correct=[[1, 0, 1, 1], [0, 0, 1, 1]]).with_agent_attributes(
        pd.DataFrame({"agent": [f"agent_{k}" for k in range(4)], "family": ["a", "a", "b", "c"]})
    )
    summary = governance_summary(responses, bootstrap=0)
    assert summary is not None
    assert summary["pivotal_unavailable"] is not None
    row = summary["attributes"][0]["groups"][0]
    assert "flip_pivotal" not in row
    assert row["group"] == "a"
