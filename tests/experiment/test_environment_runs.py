"""Environment experiments through `monoculture run`: the GovSim commons played by
scripted agents, every step a call that is cached and ledgered (fast)."""

from __future__ import annotations

import json
import shutil
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
    assert body["grammar"] == 'root ::= [0-9] | [1-9] [0-9]{1} | "100"'  # whole tons 0-100
    assert "grammar" not in build_request(calls[0], constrain=False)["bodies"][0]


DESIGNS = """
name = "scripted-designs"
topology = "environment"
bootstrap = 0
[environment]
kind = "commons"
runs = 3
seed = 0
simulator_runs = 200
[[environment.designs]]
name = "sustainable"
agents = { accuracy = 0.9999999 }
[[environment.designs]]
name = "erratic"
agents = { accuracy = 0.3, seeds = [5, 6, 7, 8, 9] }
[agents]
backend = "scripted"
seeds = [0, 1, 2, 3, 4]
"""


def test_designs_play_the_same_environment_and_are_compared(tmp_path: Path) -> None:
    # Catches designs that overwrite each other's rows or folders, a combined table that
    # loses which design a row came from, and a comparison without the fitted simulator.
    result = _run(tmp_path, DESIGNS)
    run = tmp_path / "run"
    table = pd.read_parquet(run / "environment.parquet")
    assert list(table.columns[:1]) == ["design"]
    assert set(table["design"]) == {"sustainable", "erratic"}
    assert not table.duplicated(["design", "run", "step", "agent"]).any()
    sustainable = table[table["design"] == "sustainable"]
    assert len(sustainable) == 3 * 12 * 5
    assert (sustainable["action"] == 10).all()
    for design in ("sustainable", "erratic"):  # each design's own run folder and ledger
        assert (run / design / "ledger.sqlite").is_file()
        own = pd.read_parquet(run / design / "environment.parquet")
        assert len(own) == (table["design"] == design).sum()
    summary = pd.read_csv(run / "designs.csv")
    assert set(summary["source"]) == {"llm", "simulator"}
    parsed = summary[(summary["metric"] == "valid_share") & (summary["source"] == "llm")]
    values = dict(zip(parsed["design"], parsed["value"], strict=True))
    assert values["sustainable"] == 1.0 > values["erratic"]
    # The erratic agents' answers that parse are the gold 10, like the sustainable ones:
    # their unparsed answers (0 tons by default) are not decisions they agree on.
    agreement = summary[(summary["metric"] == "agreement") & (summary["source"] == "llm")]
    assert (agreement["value"] == 1.0).all()
    notes = json.loads((run / "designs.json").read_text())["notes"]
    assert any(n.startswith("erratic: the simulator is fitted to the") for n in notes)
    page = (run / "report.html").read_text()
    assert "fig-pool" in page
    assert "erratic (fitted simulator)" in page
    assert "designs compared" in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('name = "erratic"', 'name = "sustainable"'), "their own names"),
        (('name = "erratic"', 'name = "../up"'), "design name"),
        (('name = "erratic"', 'name = "Sustainable"'), "case aside"),
        (("accuracy = 0.3", "acuracy = 0.3"), "[agents] takes"),
        (("seeds = [5, 6, 7, 8, 9]", "seeds = [5, 6]"), "as many agents"),
        (("accuracy = 0.3", "accuracy = 3"), "design 'erratic': agents.accuracy"),
        (("simulator_runs = 200", "simulator_runs = -1"), "simulator_runs"),
    ],
)
def test_bad_designs_fail_before_any_call(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    # Catches a design checked only when its turn comes (after others have run), and a
    # design name used as a path outside the output folder.
    path = tmp_path / "experiment.toml"
    path.write_text(DESIGNS.replace(*change))
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_killed_environment_run_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    # Catches a resumed environment run that asks again for finished steps or replays the
    # trajectory differently. The server holds every request after month 1's 10 calls (2
    # runs x 5 fishers), so the run is killed with month 1 recorded and month 2 in flight.
    # The server answers "A" (not a number): every request is invalid, 0 tons, the lake
    # stays full and both runs play all 12 months.
    import subprocess
    import sys
    from contextlib import closing

    from monoculture.agents.fault_server import FaultServer
    from tests.experiment._kill import kill_when_held

    first, total = 2 * 5, 2 * 5 * 12
    with FaultServer(hold_after=first) as server:
        experiment = tmp_path / "experiment.toml"
        experiment.write_text(
            'name = "kill"\ntopology = "environment"\nbootstrap = 0\n'
            '[environment]\nkind = "commons"\nruns = 2\nsimulator_runs = 0\n'
            '[agents]\nbackend = "openai"\nseeds = [0, 1, 2, 3, 4]\ntemperatures = [0.7]\n'
            f'[endpoint]\nbase_url = "{server.base_url}"\nconcurrency = 2\n'
        )
        command = [sys.executable, "-m", "monoculture.cli", "run", str(experiment), "-o"]
        command.append(str(tmp_path / "run"))
        kill_when_held(command, server, tmp_path / "killed.log")
        server.release()
        ledger = tmp_path / "run" / "ledger.sqlite"
        with closing(sqlite3.connect(ledger)) as connection:
            before = connection.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        assert before == first
        sent_before = len(server.requests)
        done = subprocess.run(
            [*command, "--resume"], capture_output=True, text=True, check=False, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        server.wait_idle()
        finished = {json.dumps(r, sort_keys=True) for r in server.requests[:first]}
        resumed = [json.dumps(r, sort_keys=True) for r in server.requests[sent_before:]]
    assert not finished & set(resumed)  # no finished call sent again
    assert len(resumed) == len(set(resumed)) == total - first  # the rest, once each
    table = pd.read_parquet(tmp_path / "run" / "environment.parquet")
    assert len(table) == total
    assert not table["valid"].any()
    assert (table["pool_before"] == 100).all()


def test_the_experiment_name_is_data_on_the_page_and_the_terminal(tmp_path: Path) -> None:
    # Catches user text rendered as markup: a name with HTML and rich tags must come out
    # as written.
    name = "<b>[red]lake</b>"
    result = _run(tmp_path, DESIGNS.replace('name = "scripted-designs"', f'name = "{name}"'))
    page = (tmp_path / "run" / "report.html").read_text()
    assert "&lt;b&gt;[red]lake&lt;/b&gt;" in page
    assert "<b>[red]lake" not in page
    assert f"{name}-sustainable" in result.output


def test_a_design_folder_from_an_earlier_run_is_refused_before_any_design_plays(
    tmp_path: Path,
) -> None:
    # Catches the clash found only when that design's turn comes, after the designs before
    # it have played (hours of calls with real models).
    _run(tmp_path, DESIGNS)
    fresh = tmp_path / "again"
    fresh.mkdir()

    shutil.copytree(tmp_path / "run" / "erratic", fresh / "erratic")
    path = tmp_path / "experiment.toml"
    result = runner.invoke(app, ["run", str(path), "-o", str(fresh)])
    assert result.exit_code == 2, result.output
    assert "erratic holds an earlier run" in result.stderr
    assert not (fresh / "sustainable").exists()
