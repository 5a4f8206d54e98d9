"""The command line: output, JSON, and exit status 2 with one message on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.synthetic import latent_swarm

runner = CliRunner()


@pytest.fixture(scope="module")
def responses_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "responses.csv.gz"
    latent_swarm(n_agents=6, n_items=300, seed=3).to_long().to_csv(path, index=False)
    return path


def test_analyze_prints_the_verdict_and_writes_json(responses_file: Path, tmp_path: Path) -> None:
    agents = tmp_path / "agents.csv"
    pd.DataFrame(
        {"agent": [f"synthetic-{k:02d}" for k in range(6)], "developer": list("XXYYZZ")}
    ).to_csv(agents, index=False)
    out = tmp_path / "out.json"
    result = runner.invoke(
        app,
        [
            "analyze",
            str(responses_file),
            "--agents",
            str(agents),
            "--json",
            str(out),
            "--bootstrap",
            "50",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "6 agents behave like" in result.output
    assert "Used 1,800 of 1,800 rows" in result.output
    document = json.loads(out.read_text())
    assert document["summary"]["n_agents"] == 6
    assert {row["attribute"] for row in document["attributes"]} >= {"developer", "family"}


def test_custom_column_names(tmp_path: Path) -> None:
    # Catches --item-col / --agent-col read but mapped wrongly (items taken as agents,
    # rows dropped, agents renamed or reordered): the run on renamed columns must print and
    # write exactly the figures of the run on the default column names.
    table = latent_swarm(n_agents=3, n_items=50, seed=1).to_long()
    default = tmp_path / "default.csv"
    table.to_csv(default, index=False)
    renamed = tmp_path / "renamed.jsonl"
    table.rename(columns={"item_id": "question", "agent": "model"}).to_json(
        renamed, orient="records", lines=True
    )
    options = ["--bootstrap", "50", "--no-progress"]
    base = runner.invoke(
        app, ["analyze", str(default), "--json", str(tmp_path / "a.json"), *options]
    )
    result = runner.invoke(
        app,
        [
            "analyze",
            str(renamed),
            "--item-col",
            "question",
            "--agent-col",
            "model",
            "--json",
            str(tmp_path / "b.json"),
            *options,
        ],
    )
    assert base.exit_code == 0, base.output
    assert result.exit_code == 0, result.output
    assert "Used 150 of 150 rows: 50 items x 3 agents" in result.output
    assert result.output.replace("b.json", "a.json") == base.output
    expected = json.loads((tmp_path / "a.json").read_text())
    document = json.loads((tmp_path / "b.json").read_text())
    assert document["input"].pop("source") == str(renamed)
    assert expected["input"].pop("source") == str(default)
    assert document == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("item_id,agent,correct\n1,a,1\n1,b,3\n", "must be 0 or 1"),
        ("item_id,correct\n1,1\n", "missing required column"),
        ("", "empty"),
        ("item_id,agent,correct\n1,a,1\n2,a,0\n", "at least 2 agents"),
        ("item_id,agent,correct\n1,a,1\n1,a,0\n1,b,1\n", "appear on several rows"),
    ],
)
def test_bad_input_exits_2_with_one_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = runner.invoke(app, ["analyze", str(path), "--no-progress"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert str(path) in result.output.replace("\n", "")


def test_real_process_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("item_id,agent,correct\n1,a,yes\n1,b,1\n")
    done = subprocess.run(
        [sys.executable, "-m", "monoculture.cli", "analyze", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "must be 0 or 1" in done.stderr


def test_embedded_demo_config_is_a_valid_experiment_file() -> None:
    from monoculture.cli.demo import demo_config
    from monoculture.experiment import load_experiment

    packaged = Path(__file__).resolve().parents[2] / "src/monoculture/experiment/demo.toml"
    assert demo_config() == load_experiment(packaged)
    assert len(demo_config().worker_specs()) >= 12
    assert demo_config().tasks.n_items >= 100


def test_synthetic_demo_runs_without_a_model() -> None:
    result = runner.invoke(app, ["demo", "--synthetic", "--items", "300", "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC DATA" in result.output
