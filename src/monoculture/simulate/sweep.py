"""Sweeps: a grid over any scenario knobs, run locally or on a Ray cluster, giving tidy
tables (Parquet) and figures.

A sweep file (TOML)::

    [simulation]              # the base configuration; `scenario` picks the model
    scenario = "estimation"
    n_agents = 1000

    [sweep]                   # every combination of these values is one cell
    homogeneity = [0.0, 0.5, 0.9]
    temperature = [0.0, 0.5]

    [[figure]]                # optional: what to draw from the per-run table
    x = "homogeneity"
    y = "mean_pairwise_error_correlation"
    color = "temperature"

Each cell gets its own seed (base seed and cell index), so a sweep is reproducible and its
cells are independent of where they run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monoculture._toml import read_toml, validate
from monoculture.errors import InputError
from monoculture.simulate.cascade import CascadeConfig, run_cascade
from monoculture.simulate.classification import ClassificationConfig, run_classification
from monoculture.simulate.commons import CommonsConfig, run_commons
from monoculture.simulate.estimation import EstimationConfig, run_estimation
from monoculture.simulate.plots import FigureSpec, draw_figure

__all__ = [
    "ScenarioConfig",
    "SweepConfig",
    "SweepResult",
    "check_sweep",
    "load_sweep",
    "run_scenario",
    "run_sweep",
]

ScenarioConfig = Annotated[
    EstimationConfig | CommonsConfig | CascadeConfig | ClassificationConfig,
    Field(discriminator="scenario"),
]


class SweepConfig(BaseModel):
    """A sweep: base configuration, grid and figures."""

    model_config = ConfigDict(extra="forbid")
    simulation: ScenarioConfig
    sweep: dict[str, list[Any]] = Field(default_factory=dict)
    figure: list[FigureSpec] = Field(default_factory=list)

    def cells(self) -> list[dict[str, Any]]:
        names = list(self.sweep)
        return [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(self.sweep[n] for n in names))
        ]


@dataclass(frozen=True)
class SweepResult:
    """``runs``: one row per (cell, run) with the cell's knobs; ``steps``: per step."""

    config: SweepConfig
    runs: pd.DataFrame
    steps: pd.DataFrame


# The columns each scenario's runner returns: (per-run table, per-step table). Figures are
# checked against them before a sweep runs, so that a misspelt column fails in a second and
# not after the whole simulation. Declared rather than found by a trial run, which could
# itself be slow (a network over a million agents); a test runs every scenario and checks
# that these lists match what it returns.
_SCENARIO_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "estimation": (
        (
            "run",
            "final_collective_error",
            "final_abs_error",
            "mean_abs_collective_error",
            "mean_diversity",
            "mean_pairwise_error_correlation",
            "mean_effective_agents",
            "drift_detection_time",
        ),
        (
            "run",
            "step",
            "theta",
            "shift",
            "collective",
            "collective_error",
            "mean_squared_error",
            "diversity",
            "coherence",
            "pairwise_error_correlation",
            "effective_agents",
        ),
    ),
    "commons": (
        ("run", "collapse_step", "collapsed", "final_stock"),
        ("step", "mean_stock", "mean_harvest", "harvest_disagreement"),
    ),
    "cascade": (
        ("run", "share_right", "majority_right", "wrong_cascade", "right_cascade"),
        ("position", "share_right", "share_signal_right"),
    ),
    "classification": (
        (
            "run",
            "mean_accuracy",
            "plurality_accuracy",
            "plurality_error",
            "mean_error_consistency",
            "mean_effective_agents",
            "systemic_failure_rate",
        ),
        (
            "run",
            "step",
            "difficulty_margin",
            "mean_accuracy",
            "plurality_accuracy",
            "error_consistency",
            "effective_agents",
            "systemic_failure_rate",
        ),
    ),
}


def _line(text: str, key: str, *, table: str, occurrence: int = 1) -> str:
    """`` (line N)`` for ``key = ...`` inside the ``occurrence``-th ``[table]`` (or
    ``[[table]]``) of the TOML ``text``, else empty."""
    seen, inside = 0, False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("["):
            inside = stripped.strip("[] ") == table and (seen := seen + 1) == occurrence
        elif inside and stripped.startswith((f"{key} ", f"{key}=")):
            return f" (line {number})"
    return ""


def _table_columns(config: SweepConfig) -> dict[str, list[str]]:
    """The columns of a sweep's ``runs`` and ``steps`` tables, known before it runs: the
    cell number, the swept knobs, then the scenario's own columns."""
    runs, steps = _SCENARIO_COLUMNS[config.simulation.scenario]
    tags = ["cell", *config.sweep]
    return {"per-run": [*tags, *runs], "per-step": [*tags, *steps]}


def check_sweep(config: SweepConfig, source: str, text: str = "") -> None:
    """Every rule of a sweep that pydantic cannot state alone, checked before any cell runs:
    swept knobs exist and each has values, every cell is a valid configuration, and every
    figure names columns its table will have. ``text``: the TOML, for line numbers."""
    scenario = config.simulation.scenario
    fields = type(config.simulation).model_fields
    unknown = [name for name in config.sweep if name not in fields]
    if unknown:
        raise InputError(
            f"{source}: [sweep] names {unknown}, which the {scenario} scenario does not have; "
            f"its knobs are {sorted(fields)}."
        )
    for name, values in config.sweep.items():
        if not values:
            raise InputError(
                f"{source}: [sweep] {name} = []{_line(text, name, table='sweep')} has no "
                "values, which would leave no cell to run; give at least one value or remove "
                "the key."
            )
    for cell in config.cells():
        try:
            type(config.simulation).model_validate({**config.simulation.model_dump(), **cell})
        except ValidationError as error:
            first = error.errors()[0]
            key = str(first["loc"][0])
            raise InputError(
                f"{source}: [sweep] value {cell} is invalid for {key!r}: "
                f"{first['msg']}{_line(text, key, table='sweep')}."
            ) from None
    columns = _table_columns(config)
    for number, spec in enumerate(config.figure, start=1):
        which = "per-step" if spec.kind == "trajectory" else "per-run"
        other = "per-run" if which == "per-step" else "per-step"
        for role, column in (("x", spec.x), ("y", spec.y), ("color", spec.color)):
            if column is None or column in columns[which]:
                continue
            hint = (
                f" It is a {other} column: set kind = "
                f"{'sweep' if other == 'per-run' else 'trajectory'!r}."
                if column in columns[other]
                else ""
            )
            line = _line(text, role, table="figure", occurrence=number)
            if not line and role == "x" and column == FigureSpec.model_fields["x"].default:
                line = " (the default)"
            raise InputError(
                f"{source}: [[figure]] {number}: {role} = {column!r}{line} is not a column of "
                f"the {which} table of the {scenario} scenario; its columns are "
                f"{columns[which]}.{hint}"
            )


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and validate a sweep TOML file; errors name the key and the line. Everything
    `check_sweep` states is checked here, before anything runs."""
    raw, text = read_toml(path)
    config = validate(SweepConfig, raw, text, path)
    check_sweep(config, str(path), text)
    return config


def run_scenario(config: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one configuration; ``(per-run table, per-step table)``."""
    runners: dict[str, Callable[[Any], Any]] = {
        "estimation": run_estimation,
        "commons": run_commons,
        "cascade": run_cascade,
        "classification": run_classification,
    }
    result = runners[config.scenario](config)
    return result.runs, result.steps


def _cell_config(config: SweepConfig, index: int, cell: dict[str, Any]) -> Any:
    base = config.simulation
    return type(base).model_validate(
        {**base.model_dump(), **cell, "seed": base.seed * 1_000_003 + index}
    )


def _tag(table: pd.DataFrame, index: int, cell: dict[str, Any]) -> pd.DataFrame:
    table = table.copy()
    table.insert(0, "cell", index)
    for position, (name, value) in enumerate(cell.items(), start=1):
        table.insert(position, name, value)
    return table


def run_sweep(
    config: SweepConfig,
    *,
    executor: Literal["local", "ray"] = "local",
    ray_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every cell; ``executor="ray"`` runs cells as Ray tasks (a local instance unless
    ``ray_address`` names a cluster, e.g. ``"ray://head:10001"`` or ``"auto"``)."""
    check_sweep(config, "run_sweep")
    cells = config.cells()
    configs = [_cell_config(config, k, cell) for k, cell in enumerate(cells)]
    outputs: list[tuple[pd.DataFrame, pd.DataFrame] | None] = [None] * len(cells)
    if executor == "local":
        for k, cell_config in enumerate(configs):
            outputs[k] = run_scenario(cell_config)
            if progress:
                progress(k + 1, len(cells))
    elif executor == "ray":
        outputs = _run_on_ray(configs, ray_address, progress)
    else:
        raise InputError(f"run_sweep: executor must be 'local' or 'ray'; got {executor!r}.")
    runs = pd.concat(
        [_tag(out[0], k, cells[k]) for k, out in enumerate(outputs) if out], ignore_index=True
    )
    steps = pd.concat(
        [_tag(out[1], k, cells[k]) for k, out in enumerate(outputs) if out], ignore_index=True
    )
    return SweepResult(config, runs, steps)


def _run_on_ray(
    configs: list[Any], address: str | None, progress: Callable[[int, int], None] | None
) -> list[tuple[pd.DataFrame, pd.DataFrame] | None]:
    try:
        import ray
    except ImportError:
        raise InputError(
            "--executor ray needs Ray: pip install 'monoculture[ray]' (or pip install ray)."
        ) from None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(run_scenario)
        pending = {remote.remote(c): k for k, c in enumerate(configs)}
        outputs: list[tuple[pd.DataFrame, pd.DataFrame] | None] = [None] * len(configs)
        done = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                outputs[pending.pop(ref)] = ray.get(ref)
                done += 1
                if progress:
                    progress(done, len(configs))
        return outputs
    finally:
        if started:
            ray.shutdown()


def save_sweep(result: SweepResult, directory: Path) -> list[Path]:
    """Write ``runs.parquet``, ``steps.parquet``, ``sweep.json`` and one PNG per figure."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "runs.parquet", directory / "steps.parquet"]
    result.runs.to_parquet(written[0], index=False)
    result.steps.to_parquet(written[1], index=False)
    (directory / "sweep.json").write_text(result.config.model_dump_json(indent=2))
    written.append(directory / "sweep.json")
    for number, spec in enumerate(result.config.figure, start=1):
        path = directory / f"figure-{number}-{spec.y}.png"
        draw_figure(result.steps, result.runs, spec, path)
        written.append(path)
    return written
