"""HELM run folders: item by item against per_instance_stats.json and display_predictions.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from monoculture.errors import InputError
from monoculture.io import read_helm_runs
from monoculture.responses import Responses
from tests.io._fixtures import HELM

RUNS = sorted(p for p in HELM.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def runs() -> Responses:
    return read_helm_runs(HELM)


def _model(run: Path) -> str:
    return json.loads((run / "run_spec.json").read_text())["adapter_spec"]["model"]


def test_cells_match_the_stats_and_predictions(runs: Responses) -> None:
    # Catches the perturbed copy read as the instance, a wrong stat, or trials as agents.
    assert runs.answers is not None
    for run in RUNS:
        a = runs.agents.tolist().index(_model(run))
        trials: dict[str, list[float]] = {}
        for entry in json.loads((run / "per_instance_stats.json").read_text()):
            if "perturbation" in entry:
                continue
            (value,) = [s["mean"] for s in entry["stats"] if s["name"]["name"] == "exact_match"]
            trials.setdefault(entry["instance_id"], []).append(value)
        first = {
            p["instance_id"]: p["mapped_output"]
            for p in json.loads((run / "display_predictions.json").read_text())
            if p["train_trial_index"] == 0
        }
        for instance_id, values in trials.items():
            i = runs.item_ids.tolist().index(instance_id)
            assert runs.correct[i, a] == int(sum(values) * 2 > len(values))
            if len(values) == 1:
                assert runs.labels[runs.answers[i, a]] == first[instance_id].lower()


def test_gold_from_instances(runs: Responses) -> None:
    assert runs.gold is not None
    for instance in json.loads((RUNS[0] / "instances.json").read_text()):
        (gold,) = [r["output"]["text"] for r in instance["references"] if "correct" in r["tags"]]
        i = runs.item_ids.tolist().index(instance["id"])
        assert runs.labels[runs.gold[i]] == gold.lower()


def test_perturbations_left_out_and_counted(runs: Responses) -> None:
    assert runs.input_summary.left_out == {"perturbed instance (robustness/fairness copy)": 3}
    assert runs.agent_attrs.loc["eleutherai/pythia-1b", "repetitions"] == 2


def test_predictions_alone_are_enough(tmp_path: Path) -> None:
    for run in RUNS:
        target = tmp_path / run.name
        shutil.copytree(run, target)
        (target / "per_instance_stats.json").unlink()
    alone = read_helm_runs(tmp_path)
    full = read_helm_runs(HELM)
    assert alone.correct.tolist() == full.correct.tolist()


def test_mixed_scenarios_need_task(tmp_path: Path) -> None:
    for run in RUNS:
        shutil.copytree(run, tmp_path / run.name)
    other = tmp_path / RUNS[0].name.replace("anatomy", "virology")
    shutil.copytree(RUNS[0], other)
    spec = json.loads((other / "run_spec.json").read_text())
    spec["name"] = spec["name"].replace("anatomy", "virology")
    (other / "run_spec.json").write_text(json.dumps(spec))
    with pytest.raises(InputError, match=r"several scenarios.*--task"):
        read_helm_runs(tmp_path)
    r = read_helm_runs(tmp_path, task="mmlu:subject=anatomy,method=multiple_choice_joint")
    assert r.n_agents == 3


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    for run in RUNS:
        shutil.copytree(run, tmp_path / run.name)
    bad = tmp_path / RUNS[1].name / "per_instance_stats.json"
    bad.write_text(bad.read_text()[:100])
    with pytest.raises(InputError, match=r"per_instance_stats\.json: is not valid JSON"):
        read_helm_runs(tmp_path)


def test_unknown_metric() -> None:
    with pytest.raises(InputError, match=r"unknown metric 'f1'.*--metric"):
        read_helm_runs(HELM, metric="f1")
    assert read_helm_runs(HELM, metric="quasi_exact_match").n_agents == 3
