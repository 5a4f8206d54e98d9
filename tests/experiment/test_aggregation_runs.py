"""Experiments that name aggregators and collect predictions (scripted agents: fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.experiment import load_experiment

runner = CliRunner()

WITH_AGGREGATORS = """
name = "scripted-aggregation"
topology = "debate"
rounds = 1
bootstrap = 0
aggregators = ["plurality", "weighted", "covariance", "surprisingly_popular"]
predictions = true
[tasks]
n_items = 40
[agents]
backend = "scripted"
seeds = [0, 1, 2, 3, 4]
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("aggregation")
    (folder / "experiment.toml").write_text(WITH_AGGREGATORS)
    output = folder / "run"
    result = runner.invoke(app, ["run", str(folder / "experiment.toml"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output, result.stdout


def test_each_round_reports_each_aggregator(run_folder: tuple[Path, str]) -> None:
    # Catches aggregators named in the file but never run, or run on one round only.
    output, stdout = run_folder
    for round_ in (0, 1):
        comparison = json.loads((output / f"aggregation-round-{round_}.json").read_text())
        names = [m["name"] for m in comparison["methods"]]
        assert names == ["plurality", "weighted", "covariance", "surprisingly_popular"]
        assert comparison["split"]["n_train"] == 20
        analysis = json.loads((output / f"analysis-round-{round_}.json").read_text())
        assert [m["name"] for m in analysis["aggregation"]["methods"]] == names
        assert "fitted" not in analysis["aggregation"]
        assert "id='aggregation-table'" in (output / f"report-round-{round_}.html").read_text()
    assert "surprisingly_popular" in stdout


def test_predictions_are_calls_of_their_own_and_reach_outcomes(
    run_folder: tuple[Path, str],
) -> None:
    # Catches predictions scored as answers, or lost before outcomes.csv (where
    # `monoculture aggregate` reads them).
    output, _ = run_folder
    calls = pd.read_csv(output / "calls.csv")
    predicted = calls[calls["kind"] == "predict"]
    assert len(predicted) == 5 * 40
    assert predicted["correct"].isna().all()
    outcomes = pd.read_csv(output / "outcomes.csv")
    shares = outcomes["predicted_shares"].map(json.loads)
    assert all(abs(sum(s.values()) - 1) < 1e-9 for s in shares)
    result = runner.invoke(app, ["aggregate", str(output / "outcomes.csv"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "surprisingly_popular" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('aggregators = ["majority"]', "unknown aggregator(s) ['majority']"),
        ('aggregators = ["surprisingly_popular"]', "set predictions = true"),
        ("aggregation_split = 1.0", "aggregation_split"),
    ],
)
def test_bad_aggregation_settings_fail_before_any_call(
    tmp_path: Path, extra: str, message: str
) -> None:
    path = tmp_path / "experiment.toml"
    path.write_text(f'name = "x"\nbootstrap = 0\n{extra}\n[agents]\nbackend = "scripted"\n')
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_too_few_items_to_fit_an_aggregator_fails_before_any_call(tmp_path: Path) -> None:
    # 12 items x 0.5 = 6 training items: a learning aggregator needs 10.
    path = tmp_path / "experiment.toml"
    path.write_text(
        'name = "x"\nbootstrap = 0\naggregators = ["weighted"]\n[tasks]\nn_items = 12\n'
        '[agents]\nbackend = "scripted"\nseeds = [0, 1]\n'
    )
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "fewer than 10" in result.stderr
    assert load_experiment(path).aggregators == ["weighted"]
