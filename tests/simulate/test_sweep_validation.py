"""Sweeps are checked before anything runs: empty grids, figures naming missing columns,
output paths; and the declared columns of every scenario are the ones it returns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.errors import InputError
from monoculture.simulate import (
    CascadeConfig,
    ClassificationConfig,
    CommonsConfig,
    EstimationConfig,
    SweepConfig,
    load_sweep,
    run_scenario,
    run_sweep,
)
from monoculture.simulate.plots import FigureSpec, _trajectories
from monoculture.simulate.sweep import _SCENARIO_COLUMNS

BASE = '[simulation]\nscenario = "estimation"\nn_agents = 20\nn_steps = 3\n'


def _refuse_running(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(config: object) -> None:
        raise AssertionError("a cell ran before the sweep was checked")

    monkeypatch.setattr("monoculture.simulate.sweep.run_scenario", fail)


@pytest.mark.parametrize(
    "config",
    [
        EstimationConfig(n_agents=20, n_steps=3, drift="regime_shift"),
        CommonsConfig(n_agents=5, n_steps=3, n_runs=2),
        CascadeConfig(n_agents=5, n_runs=3),
        ClassificationConfig(n_agents=5, n_steps=2, items_per_step=20),
    ],
    ids=lambda config: config.scenario,
)
def test_declared_columns_are_the_scenarios_own(config: object) -> None:
    # Catches a scenario whose tables change without the declaration figures are checked against.
    runs, steps = run_scenario(config)
    declared_runs, declared_steps = _SCENARIO_COLUMNS[config.scenario]  # type: ignore[attr-defined]
    assert tuple(runs.columns) == declared_runs
    assert tuple(steps.columns) == declared_steps


def test_every_scenario_declares_its_columns() -> None:
    # Catches a new scenario added to the sweep without declared columns.
    scenarios = {
        cls.model_fields["scenario"].default
        for cls in (EstimationConfig, CommonsConfig, CascadeConfig, ClassificationConfig)
    }
    assert set(_SCENARIO_COLUMNS) == scenarios


def test_empty_list_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches `homogeneity = []` silently running one base cell.
    _refuse_running(monkeypatch)
    path = tmp_path / "sweep.toml"
    path.write_text(BASE + "[sweep]\nhomogeneity = []\ntemperature = [0.0, 0.5]\n")
    with pytest.raises(InputError, match=r"\[sweep\] homogeneity = \[\] \(line 6\) has no values"):
        load_sweep(path)
    config = SweepConfig.model_validate(
        {"simulation": {"scenario": "estimation"}, "sweep": {"homogeneity": []}}
    )
    with pytest.raises(InputError, match="has no values"):
        run_sweep(config)
    result = CliRunner().invoke(app, ["simulate", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "homogeneity = [] (line 6) has no values" in result.stderr


@pytest.mark.parametrize(
    ("figure", "message"),
    [
        ('x = "cell"\ny = "no_such"', "[[figure]] 2: y = 'no_such' (line 12) is not a column"),
        ('x = "cell"\ny = "diversity"', "It is a per-step column: set kind = 'trajectory'."),
        ('kind = "trajectory"\ny = "mean_diversity"', "It is a per-run column: set kind = 'sweep'"),
        ('kind = "trajectory"\nx = "position"\ny = "diversity"', "x = 'position' (line 12)"),
        ('y = "mean_diversity"', "x = 'step' (the default) is not a column of the per-run"),
        ('x = "cell"\ny = "mean_diversity"\ncolor = "colour"', "color = 'colour' (line 13)"),
    ],
)
def test_figure_columns_are_checked_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figure: str, message: str
) -> None:
    # Catches a figure naming a missing column failing only after the whole simulation.
    _refuse_running(monkeypatch)
    path = tmp_path / "sweep.toml"
    path.write_text(
        BASE
        + "[sweep]\nhomogeneity = [0.1, 0.9]\n"
        + '[[figure]]\nx = "homogeneity"\ny = "mean_diversity"\n'
        + f"[[figure]]\n{figure}\n"
    )
    result = CliRunner().invoke(app, ["simulate", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_swept_knobs_and_cell_are_figure_columns(tmp_path: Path) -> None:
    # Catches the check refusing columns the sweep itself adds (cell number, swept knobs).
    path = tmp_path / "sweep.toml"
    path.write_text(
        BASE
        + "[sweep]\nhomogeneity = [0.1, 0.9]\n"
        + '[[figure]]\nx = "cell"\ny = "mean_diversity"\ncolor = "homogeneity"\n'
        + '[[figure]]\nkind = "trajectory"\ny = "diversity"\ncolor = "homogeneity"\n'
    )
    assert len(load_sweep(path).figure) == 2


def test_output_that_is_a_file_is_refused_before_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches `-o FILE` failing with a traceback after the whole simulation.
    _refuse_running(monkeypatch)
    path = tmp_path / "sweep.toml"
    path.write_text(BASE)
    (tmp_path / "taken").write_text("")
    result = CliRunner().invoke(app, ["simulate", str(path), "-o", str(tmp_path / "taken")])
    assert result.exit_code == 2
    assert "is a file; give a directory" in result.stderr


def test_trajectories_are_one_line_per_cell_and_run() -> None:
    # Catches runs of different cells (same run numbers) drawn as one zigzag line.
    steps = pd.DataFrame(
        {
            "cell": [0, 0, 0, 0, 1, 1, 1, 1],
            "homogeneity": [0.1] * 4 + [0.9] * 4,
            "run": [0, 0, 1, 1, 0, 0, 1, 1],
            "step": [0, 1] * 4,
            "diversity": range(8),
        }
    )
    spec = FigureSpec(kind="trajectory", y="diversity")
    assert [len(line) for line in _trajectories(steps, spec)] == [2, 2, 2, 2]
    # Per-step tables already averaged over runs (commons) have no "run": one line per cell.
    commons = steps.drop(columns="run").iloc[[0, 1, 4, 5]]
    assert len(_trajectories(commons, spec)) == 2
