"""``monoculture guard``: calibrate, apply and replay through the typer app, with every
bad input exiting 2 with a message that names the input and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.guard import Score, app
from monoculture.guard import SCORES, decision_stream
from monoculture.simulate import ClassificationConfig, run_classification

runner = CliRunner()


@pytest.fixture(scope="module")
def swarm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = ClassificationConfig(n_agents=9, n_steps=1, items_per_step=1500, seed=3)
    responses = run_classification(config).responses[0][0]
    path = tmp_path_factory.mktemp("guard") / "responses.csv"
    responses.to_long().to_csv(path, index=False)
    return path


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_help_scores_match_library() -> None:
    assert get_args(Score) == SCORES


def test_calibrate_then_apply(swarm_file: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate.json"
    result = invoke(
        "calibrate", str(swarm_file), "--alpha", "0.05", "-o", str(gate), "--holdout", "0.5"
    )
    assert result.exit_code == 0, result.output
    assert "answer when agreement >" in result.output
    assert "held out" in result.output
    saved = json.loads(gate.read_text())
    for key in ("score", "threshold", "alpha", "delta", "method", "n_calibration"):
        assert key in saved
    out = tmp_path / "apply.json"
    decisions = tmp_path / "decisions.csv"
    result = invoke(
        "apply",
        str(swarm_file),
        "--gate",
        str(gate),
        "--json",
        str(out),
        "--decisions",
        str(decisions),
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    for key in ("n_items", "abstention_rate", "quiet_failure_rate", "accuracy_when_answered"):
        assert key in figures
    assert figures["n_items"] == 1500
    table = pd.read_csv(decisions)
    assert table["answered"].sum() == round(1500 * (1 - figures["abstention_rate"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alpha", "0"], "--alpha must be a number strictly between 0 and 1"),
        (["--alpha", "1.5"], "--alpha must be"),
        (["--delta", "1"], "--delta must be"),
        (["--alpha", "0.001"], "are needed"),
    ],
)
def test_calibrate_bad_options_exit_2(swarm_file: Path, args: list[str], message: str) -> None:
    result = invoke("calibrate", str(swarm_file), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_score_exits_2(swarm_file: Path) -> None:
    result = invoke("calibrate", str(swarm_file), "--score", "votes")
    assert result.exit_code == 2


def test_gate_from_another_score_exits_2(swarm_file: Path, tmp_path: Path) -> None:
    gate = tmp_path / "gate.json"
    assert invoke("calibrate", str(swarm_file), "-o", str(gate)).exit_code == 0
    result = invoke("apply", str(swarm_file), "--gate", str(gate), "--score", "margin")
    assert result.exit_code == 2
    assert "calibrated on the score 'agreement'" in result.output
    gate.write_text('{"schema": "something else"}')
    result = invoke("apply", str(swarm_file), "--gate", str(gate))
    assert result.exit_code == 2
    assert "not a gate file" in result.output


MONITORS_TOML = """
version = 1

[[monitor]]
name = "canary"
kind = "bernoulli_cusum"
signal = "correct"
reference_steps = 500
target_arl = 1000

[[monitor]]
kind = "synchronisation"
signal = "agreement"
reference_steps = 500
target_arl = 1000

[[monitor]]
kind = "adwin"
signal = "correct"
"""


def _stream(tmp_path: Path) -> Path:
    parts = []
    for n, accuracy, homogeneity, seed in ((3000, 0.7, 0.3, 1), (1000, 0.5, 0.8, 2)):
        config = ClassificationConfig(
            n_agents=11,
            n_steps=1,
            items_per_step=n,
            accuracy=accuracy,
            homogeneity=homogeneity,
            seed=seed,
        )
        parts.append(decision_stream(run_classification(config).responses[0][0]))
    stream = pd.concat(parts, ignore_index=True)
    stream["step"] = np.arange(len(stream))
    # Only every other decision is a canary: the rest carry no correctness.
    stream.loc[stream["step"] % 2 == 1, "correct"] = np.nan
    path = tmp_path / "stream.csv"
    stream.drop(columns=["item_id"]).to_csv(path, index=False)
    return path


def test_replay_prints_alarms_with_step_and_delay(tmp_path: Path) -> None:
    monitors = tmp_path / "monitors.toml"
    monitors.write_text(MONITORS_TOML)
    out = tmp_path / "replay.json"
    result = invoke(
        "replay",
        str(_stream(tmp_path)),
        "--monitors",
        str(monitors),
        "--change-step",
        "3000",
        "--json",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "alarm: canary at step" in result.output
    assert "delay" in result.output
    # Off a terminal, progress is plain lines (stage started / finished), no bar codes.
    assert "replay: started" in result.output
    assert "\x1b[" not in result.output
    document = json.loads(out.read_text())
    delays = [row["delay"] for row in document["summary"]]
    assert all(d is not None and 0 <= d < 1000 for d in delays), document["summary"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[monitor]]\nkind = "spc"\nsignal = "x"\n', "unknown kind 'spc' (line 2)"),
        ('[[monitor]]\nkind = "cusum"\nsignal = "agreement"\n', "reference_steps"),
        (
            '[[monitor]]\nkind = "adwin"\nsignal = "agreement"\ndelta = 2\n',
            "'monitor.0.adwin.delta' (line 4)",
        ),
        ('[[monitor]]\nkind = "adwin"\nsignal = "latency"\n', "lacks"),
        ("version = 1\n", "no monitors"),
    ],
)
def test_bad_monitors_file_exits_2(tmp_path: Path, text: str, message: str) -> None:
    monitors = tmp_path / "monitors.toml"
    monitors.write_text(text)
    stream = tmp_path / "s.csv"
    pd.DataFrame({"agreement": [0.5] * 20, "correct": [1] * 20}).to_csv(stream, index=False)
    result = invoke("replay", str(stream), "--monitors", str(monitors))
    assert result.exit_code == 2, result.output
    assert message in result.output
