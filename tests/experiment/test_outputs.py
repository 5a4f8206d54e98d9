"""A run's files meet the next step: `analyze` reads outcomes.csv as is, every round has its
report, scripted agents say so, a resumed scripted run repeats nothing, and the synthetic
demo writes what -o asks for. Scripted agents only: each run takes about a second."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.experiment import ExperimentConfig, run_experiment

runner = CliRunner()

DEBATE = """
name = "scripted-debate"
topology = "debate"
rounds = 2
bootstrap = 0
[tasks]
n_items = 12
[agents]
backend = "scripted"
seeds = [0, 1, 2]
"""

OVERSIGHT = """
name = "scripted-oversight"
topology = "oversight"
bootstrap = 0
[tasks]
n_items = 12
[agents]
backend = "scripted"
seeds = [0, 1, 2]
[supervisors]
backend = "scripted"
seeds = [9]
"""


def _run(folder: Path, toml: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "experiment.toml").write_text(toml)
    output = folder / "run"
    result = runner.invoke(app, ["run", str(folder / "experiment.toml"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output


@pytest.fixture(scope="module")
def debate_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("debate"), DEBATE)


@pytest.mark.parametrize("toml", [DEBATE, OVERSIGHT], ids=["debate", "oversight"])
def test_analyze_reads_a_runs_outcomes_with_no_options(tmp_path: Path, toml: str) -> None:
    # Catches: outcomes.csv keyed by `item` (analyze needed --item-col item), or holding
    # several rows per (item, agent) that analyze refuses as disagreeing duplicates.
    output = _run(tmp_path, toml)
    result = runner.invoke(app, ["analyze", str(output / "outcomes.csv")])
    assert result.exit_code == 0, result.output
    assert "independent agents" in result.stdout


def test_every_debate_round_has_its_report(debate_run: Path) -> None:
    # Catches: report-round-N.html written for the first and last rounds only.
    for round_ in (0, 1, 2):
        assert (debate_run / f"report-round-{round_}.html").stat().st_size > 0
        assert (debate_run / f"analysis-round-{round_}.json").stat().st_size > 0


def test_outcomes_are_the_last_round_and_calls_are_every_call(debate_run: Path) -> None:
    # Catches: outcomes.csv not in the long table's columns, or calls.csv missing calls.
    outcomes = pd.read_csv(debate_run / "outcomes.csv")
    assert {"item_id", "agent", "answer", "gold", "correct"} <= set(outcomes.columns)
    assert len(outcomes) == 3 * 12
    assert set(outcomes["round"]) == {2}
    calls = pd.read_csv(debate_run / "calls.csv")
    assert "item" not in calls.columns
    assert len(calls) == 3 * 12 * 3 + 3 * 12  # three rounds and the no-peer control


def test_scripted_agents_are_labelled_scripted(debate_run: Path) -> None:
    # Catches: synthetic agents recorded under the local model's name (SmolLM2).
    grid = ExperimentConfig.model_validate({"agents": {"backend": "scripted"}})
    assert {agent.model for agent in grid.worker_specs()} == {"scripted"}
    calls = pd.read_csv(debate_run / "calls.csv")
    assert set(calls["model"]) == {"scripted"}
    for name in ("calls.csv", "outcomes.csv"):
        assert "SmolLM2" not in (debate_run / name).read_text()


def test_judgements_are_not_scored_against_the_items_gold(tmp_path: Path) -> None:
    # Catches: a judge's "yes"/"no" compared with the item's letter (always "wrong").
    config = ExperimentConfig.model_validate(
        {
            "topology": "oversight",
            "bootstrap": 0,
            "tasks": {"n_items": 12},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
            "supervisors": {"backend": "scripted", "seeds": [9]},
        }
    )
    result = run_experiment(config, tmp_path / "run")
    judged = result.outcomes[result.outcomes["kind"] == "judge"]
    assert len(judged) == 3 * 12
    assert judged["gold"].isna().all()
    assert judged["correct"].isna().all()
    assert len(result.oversight) == 1  # the oversight table still scores them


def test_a_resumed_scripted_run_repeats_no_call(tmp_path: Path) -> None:
    # Catches: every scripted call recomputed and ledgered as "ok" again on a re-run.
    config = ExperimentConfig.model_validate(
        {
            "topology": "debate",
            "rounds": 1,
            "bootstrap": 0,
            "tasks": {"n_items": 10},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
        }
    )
    first = run_experiment(config, tmp_path / "run")
    second = run_experiment(config, tmp_path / "run")
    n_calls = 3 * 10 * 2 + 3 * 10
    with sqlite3.connect(tmp_path / "run" / "ledger.sqlite") as ledger:
        statuses = dict(ledger.execute("SELECT status, COUNT(*) FROM ledger GROUP BY status"))
    assert statuses == {"ok": n_calls, "cached": n_calls}
    assert second.progress.cached == n_calls
    columns = ["item_id", "agent", "round", "kind", "answer"]
    pd.testing.assert_frame_equal(first.outcomes[columns], second.outcomes[columns])


def test_the_synthetic_demo_writes_its_files(tmp_path: Path) -> None:
    # Catches: `demo --synthetic -o DIR` accepting -o and writing nothing.
    output = tmp_path / "demo"
    options = ["--agents", "4", "--items", "200", "--bootstrap", "10", "-o", str(output)]
    result = runner.invoke(app, ["demo", "--synthetic", *options])
    assert result.exit_code == 0, result.output
    for name in ("outcomes.csv", "analysis.json", "report.html"):
        assert (output / name).stat().st_size > 0
    again = runner.invoke(app, ["analyze", str(output / "outcomes.csv"), "--bootstrap", "0"])
    assert again.exit_code == 0, again.output


def test_executor_is_a_choice_checked_before_anything_else(tmp_path: Path) -> None:
    # Catches: --executor taken as free text and checked only after the experiment is read.
    result = runner.invoke(app, ["run", str(tmp_path / "missing.toml"), "--executor", "rai"])
    assert result.exit_code == 2
    assert "'local', 'ray'" in result.output
    assert "missing.toml" not in result.output
