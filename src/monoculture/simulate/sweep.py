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

from monoculture._toml import line_of, read_toml, validate
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


def load_sweep(path: str | Path) -> SweepConfig:
    """Read and validate a sweep TOML file; errors name the key and the line."""
    raw, text = read_toml(path)
    config = validate(SweepConfig, raw, text, path)
    fields = type(config.simulation).model_fields
    unknown = [name for name in config.sweep if name not in fields]
    if unknown:
        raise InputError(
            f"{path}: [sweep] names {unknown}, which the {config.simulation.scenario} "
            f"scenario does not have; its knobs are {sorted(fields)}."
        )
    for cell in config.cells():
        try:
            type(config.simulation).model_validate({**config.simulation.model_dump(), **cell})
        except ValidationError as error:
            first = error.errors()[0]
            raise InputError(
                f"{path}: [sweep] value {cell} is invalid for {first['loc'][0]!r}: "
                f"{first['msg']}{line_of(text, str(first['loc'][0]))}."
            ) from None
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
    cells = config.cells() or [{}]
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
