"""Experiments with a [guard]: the gate and monitors on each round, in the files and the
ledger (scripted agents: fast)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.ledger import TransparencyLog

runner = CliRunner()

MONITORS = """
version = 1
[[monitor]]
kind = "synchronisation"
signal = "agreement"
mean = 0.3
sd = 0.1
target_arl = 50
"""


def _experiment(folder: Path, guard: str, n_items: int = 120) -> Path:
    (folder / "monitors.toml").write_text(MONITORS)
    path = folder / "experiment.toml"
    path.write_text(
        f'name = "guarded"\nbootstrap = 0\n[guard]\n{guard}\n[tasks]\nn_items = {n_items}\n'
        '[agents]\nbackend = "scripted"\nseeds = [0, 1, 2, 3, 4]\naccuracy = 0.85\nloading = 0.8\n'
    )
    return path


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("guarded")
    guard = f'alpha = 0.2\ndelta = 0.1\nmonitors = "{folder / "monitors.toml"}"'
    path = _experiment(folder, guard)
    result = runner.invoke(app, ["run", str(path), "-o", str(folder / "run")])
    assert result.exit_code == 0, result.output
    return folder / "run", result.stdout


def test_gate_decides_every_held_out_item_and_alarms_name_their_step(
    guarded_run: tuple[Path, str],
) -> None:
    # Catches a gate applied to the calibration items, decisions lost between the gate and
    # the file, or alarms without the step they fired at.
    output, stdout = guarded_run
    guard = json.loads((output / "guard-round-0.json").read_text())
    assert guard["n_calibration"] == 60
    assert len(guard["decisions"]) == 60
    answered = [d for d in guard["decisions"] if d["decision"] == "answer"]
    threshold = guard["gate"]["threshold"]
    assert all(d["score"] > threshold for d in answered)
    abstained = 1 - len(answered) / 60
    assert guard["figures"]["abstention_rate"] == pytest.approx(abstained)
    assert guard["alarms"], "an agreement mean far above 0.3 must sound the alarm"
    assert all(isinstance(a["step"], int) and a["item_id"] for a in guard["alarms"])
    assert "abstained on (escalated)" in stdout
    analysis = json.loads((output / "analysis-round-0.json").read_text())
    assert analysis["guard"]["alarms"] == guard["alarms"]
    assert "decisions" not in analysis["guard"]
    page = (output / "report-round-0.html").read_text()
    assert "id='guard'" in page
    assert f"<td>{guard['alarms'][0]['step']}</td>" in page


def test_gate_decisions_and_alarms_are_in_the_signed_ledger(
    guarded_run: tuple[Path, str],
) -> None:
    # Catches decisions printed but never recorded, or recorded outside the verified log.
    output, _ = guarded_run
    guard = json.loads((output / "guard-round-0.json").read_text())
    with sqlite3.connect(output / "ledger.sqlite") as connection:
        kinds = dict(connection.execute("SELECT kind, COUNT(*) FROM ledger GROUP BY kind"))
    assert kinds["gate"] == 60
    assert kinds["alarm"] == len(guard["alarms"])
    with TransparencyLog.open(output / "ledger.sqlite", read_only=True) as log:
        assert log.verify().ok
        assert log.size == sum(kinds.values())


@pytest.mark.parametrize(
    ("guard", "n_items", "message"),
    [
        ("alpha = 0.01", 120, "need at least"),
        ('monitors = "missing.toml"', 120, "missing.toml"),
        ("alpha = 1.5", 120, "alpha"),
    ],
)
def test_bad_guard_settings_fail_before_any_call(
    tmp_path: Path, guard: str, n_items: int, message: str
) -> None:
    path = _experiment(tmp_path, guard, n_items)
    result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "run" / "ledger.sqlite").exists()
