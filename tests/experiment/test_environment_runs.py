"""Environment experiments through `monoculture run`: the GovSim commons played by
scripted agents, every step a call that is cached and ledgered (fast)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app

runner = CliRunner()

COMMONS = """
name = "scripted-commons"
topology = "environment"
bootstrap = 0
[environment]
kind = "commons"
runs = 3
seed = 0
[agents]
backend = "scripted"
seeds = [0, 1, 2, 3, 4]
accuracy = 0.9999999
"""


def _run(folder: Path, toml: str, *extra: str) -> CliRunner:
    path = folder / "experiment.toml"
    path.write_text(toml)
    result = runner.invoke(app, ["run", str(path), "-o", str(folder / "run"), *extra])
    assert result.exit_code == 0, result.output
    return result


def test_commons_run_writes_every_step_and_survives_at_the_sustainable_harvest(
    tmp_path: Path,
) -> None:
    # Catches steps lost between the bridge and the files, or a pool that does not follow
    # GovSim's rules when played through the runner. Scripted agents (accuracy 1 - 1e-7)
    # answer an item's gold, here the sustainable harvest (pool // 2) // 5 = 10: the pool
    # is halved and doubles back to 100, so every run survives all 12 months.
    _run(tmp_path, COMMONS)
    table = pd.read_parquet(tmp_path / "run" / "environment.parquet")
    assert len(table) == 3 * 12 * 5
    assert table["valid"].all()
    assert (table["action"] == 10).all()
    assert (table["pool_before"] == 100).all()
    assert (table["pool_after"] == 50).all()
    assert not table["collapsed"].any()
    with sqlite3.connect(tmp_path / "run" / "ledger.sqlite") as connection:
        calls = connection.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    assert calls == 3 * 12 * 5


def test_a_resumed_environment_run_repeats_no_call(tmp_path: Path) -> None:
    # Catches an environment whose prompts change between runs (the cache would miss).
    _run(tmp_path, COMMONS)
    result = _run(tmp_path, COMMONS, "--resume")
    assert "cache hits 180" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (COMMONS.replace('topology = "environment"\n', ""), "go together"),
        (COMMONS.replace('kind = "commons"', 'kind = "fishing"'), "kind"),
        (COMMONS.replace("runs = 3", "runs = 3\ncapacity = -5"), "[environment]"),
        (COMMONS + 'aggregators = ["plurality"]\n', "aggregators"),
    ],
)
def test_bad_environment_settings_fail_before_any_call(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "experiment.toml"
    path.write_text(toml)
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "run" / "ledger.sqlite").exists()


def test_numeric_actions_are_constrained_to_a_number() -> None:
    # Catches an environment step sent unconstrained: a small model then starts a sentence
    # ("To solve this problem, we need to") that the token limit cuts before any number,
    # and every action becomes the invalid default (seen with SmolLM2 in the commons).
    from monoculture.experiment.calls import build_request
    from monoculture.experiment.config import ExperimentConfig
    from monoculture.topologies import TOPOLOGIES, Swarm

    config = ExperimentConfig.model_validate(
        {
            "topology": "environment",
            "environment": {"kind": "commons", "runs": 1},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2, 3, 4]},
        }
    )
    topology = TOPOLOGIES["environment"].from_config(config)
    calls = topology.next_calls([], Swarm(tuple(config.worker_specs())), [])
    assert calls
    body = build_request(calls[0], constrain=True)["bodies"][0]
    assert body["grammar"] == "root ::= [0-9]{1,6}"
    assert "grammar" not in build_request(calls[0], constrain=False)["bodies"][0]
