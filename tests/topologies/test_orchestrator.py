"""The orchestrator topology: its plan of calls, its table, and configs it refuses."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.metrics import cohen_kappa_score

from monoculture.agents.spec import AgentSpec
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.tasks import generate_word_problems
from monoculture.topologies import TOPOLOGIES, Orchestrator
from monoculture.topologies.orchestrator import (
    ORCHESTRATOR_COLUMNS,
    mean_pairwise_kappa,
    orchestrator_table,
)
from monoculture.topologies.protocol import Outcome, Swarm

WORKERS = ("a", "b", "c")


def _swarm(n_workers: int = 3) -> Swarm:
    workers = tuple(AgentSpec(name=f"w{k}", backend="scripted") for k in range(n_workers))
    return Swarm(workers, (AgentSpec(name="boss", backend="scripted", role="supervisor"),))


def test_step_zero_asks_the_orchestrator_the_first_step_and_workers_the_whole_task() -> None:
    # Catches: the orchestrator shown only the sub-question (or the whole task as its
    # question), its call scored against the final answer instead of the intermediate, its
    # call counted in a round's Responses (kind "answer"), workers not asked the whole task.
    items = generate_word_problems(4, seed=0)
    calls = Orchestrator().next_calls(items, _swarm(), [])
    assert calls is not None
    assert len(calls) == 4 + 3 * 4
    decompose = [c for c in calls if c.agent.name == "boss"]
    assert [c.item.id for c in decompose] == [i.id for i in items]
    for call, item in zip(decompose, items, strict=True):
        assert (call.kind, call.round) == ("decompose", 0)
        assert item.question in call.user_prompt
        assert item.attrs["step1"] in call.user_prompt
        assert call.item.answer == item.attrs["intermediate"]
    alone = [c for c in calls if c.agent.name != "boss"]
    assert {(c.kind, c.round) for c in alone} == {("answer", 0)}
    assert {(c.agent.name, c.item.id) for c in alone} == {
        (w, i.id) for w in ("w0", "w1", "w2") for i in items
    }
    for call in alone:
        assert call.item.question in call.user_prompt
        assert call.item.answer != ""


def test_step_one_gives_every_worker_the_sub_question_built_on_the_orchestrators_number() -> None:
    # Catches: workers given the gold intermediate instead of the orchestrator's number (no
    # shared fault could propagate), an unreadable number silently replaced, gold changed
    # from the final answer, or a third step.
    items = generate_word_problems(2, seed=0)
    topology, swarm = Orchestrator(), _swarm()
    step0 = topology.next_calls(items, swarm, [])
    assert step0 is not None
    said = {items[0].id: "42", items[1].id: None}
    history = [
        [Outcome(c, said[c.item.id] if c.kind == "decompose" else "1", None, "ok") for c in step0]
    ]
    step1 = topology.next_calls(items, swarm, history)
    assert step1 is not None
    assert len(step1) == 3 * 2
    for call in step1:
        assert (call.kind, call.round) == ("answer", 1)
        original = next(i for i in items if i.id == call.item.id)
        assert call.item.answer == original.answer  # scored against the final answer
        expected = original.attrs["step2"].replace(
            "{x}", said[original.id] or "an unknown number of"
        )
        assert expected in call.user_prompt
        assert original.attrs["answer_grammar"] == call.item.attrs["answer_grammar"]
    assert topology.next_calls(items, swarm, [*history, []]) is None


# A hand-built run: items w1..w4, workers a, b, c. The orchestrator is right on w1 and w2,
# says 6 instead of 4 on w3 (every orchestrated worker then answers 6 + 4 = 10: wrong
# together) and nothing readable on w4.
GOLD = {"w1": ("12", "10"), "w2": ("4", "7"), "w3": ("4", "8"), "w4": ("9", "5")}
ORCHESTRATOR = {"w1": "12", "w2": "4", "w3": "6", "w4": None}
ORCHESTRATED = {
    "w1": ("10", "10", "9"),
    "w2": ("7", "6", "7"),
    "w3": ("10", "10", "10"),
    "w4": ("3", "2", None),
}
INDEPENDENT = {
    "w1": ("10", "12", "10"),
    "w2": ("4", "7", "7"),
    "w3": ("8", "4", "8"),
    "w4": ("9", "5", "9"),
}


def _outcomes() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for item, (intermediate, final) in GOLD.items():
        said = ORCHESTRATOR[item]
        rows.append(
            {
                "item_id": item,
                "agent": "supervisor:boss",
                "round": 0,
                "kind": "decompose",
                "status": "ok",
                "answer": said,
                "gold": intermediate,
                "correct": float(said == intermediate),
            }
        )
        for round_, answers in ((0, INDEPENDENT), (1, ORCHESTRATED)):
            for agent, answer in zip(WORKERS, answers[item], strict=True):
                rows.append(
                    {
                        "item_id": item,
                        "agent": agent,
                        "round": round_,
                        "kind": "answer",
                        "status": "ok",
                        "answer": answer,
                        "gold": final,
                        "correct": float(answer == final),
                    }
                )
    return pd.DataFrame(rows)


def _row(table: pd.DataFrame, condition: str, subset: str) -> pd.Series:
    return table.set_index(["condition", "subset"]).loc[(condition, subset)]


def test_a_shared_faulty_decomposition_makes_the_workers_wrong_together() -> None:
    # Catches: kappa on the wrong indicators or pairs, the faulty subset mixing in right
    # decompositions, an unreadable decomposition counted as right, premise accuracy using
    # the gold intermediate, and plurality ties credited as wins. Values by hand, see below.
    with pytest.warns(UndefinedMetricWarning, match="orchestrated/decomposition faulty"):
        table = orchestrator_table(_outcomes())
    assert list(table.columns) == ORCHESTRATOR_COLUMNS
    assert len(table) == 6
    every = _row(table, "orchestrated", "all")
    # Errors (a, b, c) by item: w1 001, w2 010, w3 111, w4 111. Pair ab: agreement 3/4,
    # chance .5*.25 + .5*.75 = .5, kappa .5; ac: the same, .5; bc: agreement 1/2, chance
    # .25^2 + .75^2 = .625, kappa -1/3. Mean 2/9.
    assert every["error_consistency"] == pytest.approx(2 / 9, abs=1e-12)
    assert every["kappa_pairs"] == 3
    assert every["worker_accuracy"] == pytest.approx(4 / 12)
    assert every["all_wrong_rate"] == pytest.approx(2 / 4)  # w3 and w4
    assert every["composed_accuracy"] == pytest.approx(2 / 4)  # w4's tie 3-2 lacks gold 5
    # Right given the orchestrator's number, on w1..w3 (w4 unreadable): 2 + 2 + 3 of 9.
    assert every["premise_accuracy"] == pytest.approx(7 / 9)
    assert every["faulty_share"] == 0.5
    assert every["decomposition_unread"] == 0.25
    assert every["decomposition_accuracy"] == 0.5
    right = _row(table, "orchestrated", "decomposition right")
    # w1, w2: a is always right, so agreement with it is chance agreement: kappa 0 with b
    # and with c; bc errors 01 vs 10: agreement 0, chance .5, kappa -1. Mean -1/3.
    assert (right["items"], right["kappa_pairs"]) == (2, 3)
    assert right["error_consistency"] == pytest.approx(-1 / 3, abs=1e-12)
    assert right["all_wrong_rate"] == 0.0
    assert right["composed_accuracy"] == 1.0
    faulty = _row(table, "orchestrated", "decomposition faulty")
    assert (faulty["items"], faulty["all_wrong_rate"], faulty["worker_accuracy"]) == (2, 1, 0)
    assert np.isnan(faulty["error_consistency"])
    assert faulty["kappa_pairs"] == 0
    assert faulty["premise_accuracy"] == 1.0  # every worker did its step, from a wrong start
    alone = _row(table, "independent", "all")
    # Errors by item: w1 010, w2 100, w3 010, w4 101. ab: agreement 0, kappa -1; ac:
    # agreement 3/4, chance .5, kappa .5; bc: agreement 1/4, chance .5, kappa -.5. Mean -1/3.
    assert alone["error_consistency"] == pytest.approx(-1 / 3, abs=1e-12)
    assert alone["worker_accuracy"] == pytest.approx(7 / 12)
    assert (alone["all_wrong_rate"], alone["composed_accuracy"]) == (0.0, 0.75)
    assert np.isnan(alone["premise_accuracy"])  # not applicable to the whole task
    # Wilson interval around the all-wrong rate 2/4 (z = 1.96): centre .5, half-width
    # 1.96 * sqrt(.0625 + .060025) / 1.9604 = 1.96 * .35004 / 1.9604 = .34997.
    assert every["all_wrong_ci_low"] == pytest.approx(0.5 - 0.34997, abs=1e-4)
    assert every["all_wrong_ci_high"] == pytest.approx(0.5 + 0.34997, abs=1e-4)


def _naive_mean_kappa(errors: np.ndarray, observed: np.ndarray) -> float:
    values = []
    for i, j in itertools.combinations(range(errors.shape[1]), 2):
        both = observed[:, i] & observed[:, j]
        x, y = errors[both, i], errors[both, j]
        if len(x) and not (len(set(x)) == len(set(y)) == 1 and x[0] == y[0]):
            values.append(cohen_kappa_score(x, y))  # else chance agreement 1: undefined
    return float(np.mean(values)) if values else float("nan")


def test_vectorised_kappa_matches_sklearn_with_gaps_and_item_weights() -> None:
    # Catches: pairs scored on items one of them lacks, the mean taken over undefined pairs,
    # and bootstrap weights that do not act as repeated items.
    rng = np.random.default_rng(0)
    errors = (rng.random((30, 5)) < 0.4).astype(float)
    observed = rng.random((30, 5)) > 0.15
    errors[~observed] = 0
    errors[:, 3] = np.where(observed[:, 3], 1, 0)  # always wrong: kappa 0 with the others
    errors[:, 4] = errors[:, 3]  # ... and undefined with agent 3 (always wrong together)
    observed[:, 4] = observed[:, 3]
    weights = rng.integers(0, 3, size=(3, 30)).astype(float)
    means, pairs = mean_pairwise_kappa(errors, observed, np.vstack([np.ones(30), weights]))
    assert means[0] == pytest.approx(_naive_mean_kappa(errors.astype(int), observed), abs=1e-12)
    assert pairs[0] == 9  # 10 pairs, one undefined
    for k, w in enumerate(weights, start=1):
        repeat = np.repeat(np.arange(30), w.astype(int))
        naive = _naive_mean_kappa(errors[repeat].astype(int), observed[repeat])
        assert means[k] == pytest.approx(naive, abs=1e-12)


def test_bootstrap_intervals_contain_their_estimates_and_are_seeded() -> None:
    # Catches: an interval computed on something else than the figure, or unseeded draws.
    with pytest.warns(UndefinedMetricWarning):
        first = orchestrator_table(_outcomes(), bootstrap=200, seed=1)
    with pytest.warns(UndefinedMetricWarning):
        again = orchestrator_table(_outcomes(), bootstrap=200, seed=1)
    pd.testing.assert_frame_equal(first, again)
    row = _row(first, "independent", "all")
    assert row["worker_accuracy_ci_low"] <= row["worker_accuracy"] <= row["worker_accuracy_ci_high"]
    assert row["error_consistency_ci_low"] <= row["error_consistency"]
    assert row["error_consistency"] <= row["error_consistency_ci_high"]


def test_failed_calls_are_missing_not_wrong() -> None:
    # Catches: a failed worker call scored as a wrong answer (inflating all-wrong rates) and
    # a failed orchestrator call counted as a right decomposition.
    table = _outcomes()
    failed = (table["agent"] == "a") & (table["item_id"] == "w1") & (table["round"] == 1)
    table.loc[failed, ["status", "answer", "correct"]] = ["failed", None, np.nan]
    boss = (table["kind"] == "decompose") & (table["item_id"] == "w2")
    table.loc[boss, ["status", "answer", "correct"]] = ["failed", None, np.nan]
    out = orchestrator_table(table)
    every = _row(out, "orchestrated", "all")
    assert every["worker_accuracy"] == pytest.approx(3 / 11)
    assert every["faulty_share"] == 0.75
    assert every["decomposition_unread"] == 0.5


def test_undefined_kappa_is_nan_with_a_warning_not_a_crash() -> None:
    # Catches: a 0 (or an exception) where every worker is always wrong.
    table = _outcomes()
    table.loc[table["kind"] == "answer", "correct"] = 0.0
    table.loc[table["kind"] == "answer", "answer"] = "99"
    with pytest.warns(UndefinedMetricWarning, match="independent/all: error_consistency"):
        out = orchestrator_table(table)
    assert out["error_consistency"].isna().all()
    assert (out.loc[out["items"] > 0, "all_wrong_rate"] == 1).all()
    assert orchestrator_table(table.iloc[:0]).columns.tolist() == ORCHESTRATOR_COLUMNS


def _config(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "orch",
        "topology": "orchestrator",
        "bootstrap": 0,
        "tasks": {"n_items": 6, "families": ["word_problems"], "form": "free"},
        "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
        "supervisors": {"backend": "scripted", "accuracy": 0.5},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"supervisors": {"seeds": [0, 1]}}, "exactly one orchestrator.*one seed"),
        ({"agents": {"seeds": [0]}}, "at least two"),
        ({"tasks": {"families": ["arithmetic"]}}, r'families = \["word_problems"\]'),
        ({"tasks": {"form": "choice"}}, 'form = "free"'),
    ],
)
def test_bad_configs_fail_before_any_call(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    # Catches: a second orchestrator silently ignored (whose number would the workers get?),
    # kappa over a single worker, and items without sub-questions reaching the plan; all
    # refused before the output folder (and so any call) exists.
    config = ExperimentConfig.model_validate(_config(**changes))
    with pytest.raises(InputError, match=message):
        run_experiment(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_no_supervisor_is_refused_when_the_config_is_read() -> None:
    # Catches: an orchestrator experiment without [supervisors] accepted.
    raw = _config()
    del raw["supervisors"]
    with pytest.raises(ValidationError, match=r"needs a \[supervisors\] grid"):
        ExperimentConfig.model_validate(raw)


def test_scripted_orchestrator_runs_end_to_end_over_repetitions(tmp_path: Path) -> None:
    # Catches: repetitions rebuilding items without their attrs (the plan would refuse
    # them), the orchestrator's calls leaking into the rounds' Responses, and a missing
    # registry entry.
    assert TOPOLOGIES["orchestrator"] is Orchestrator
    config = ExperimentConfig.model_validate(_config(repetitions=2))
    result = run_experiment(config, tmp_path / "run")
    table = result.tables["orchestrator"]
    assert len(table) == 6
    assert (table.loc[table["subset"] == "all", "items"] == 12).all()
    decompose = result.outcomes[result.outcomes["kind"] == "decompose"]
    assert len(decompose) == 12
    assert decompose["agent"].str.startswith("supervisor:").all()
    assert sorted(result.responses) == [0, 1]
    assert all(r.n_agents == 3 and r.n_items == 12 for r in result.responses.values())
