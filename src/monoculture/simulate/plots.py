"""Figures of a sweep, drawn with matplotlib (PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from monoculture.errors import InputError

__all__ = ["FigureSpec", "draw_figure"]


class FigureSpec(BaseModel):
    """One figure: ``y`` (a per-run column, averaged over runs) against a swept ``x``,
    one line per value of ``color``; or, with ``kind = "trajectory"``, ``y`` (a per-step
    column) over steps, one faint line per run, one colour per value of ``color``."""

    model_config = ConfigDict(extra="forbid")
    x: str = "step"
    y: str
    color: str | None = None
    kind: Literal["sweep", "trajectory"] = "sweep"
    title: str | None = None


def _trajectories(table: pd.DataFrame, spec: FigureSpec) -> list[pd.DataFrame]:
    """One line per (cell, run): runs of different cells share run numbers, and some
    scenarios' per-step tables are already averaged over runs (no ``run`` column)."""
    keys = [k for k in ("cell", "run") if k in table.columns and k != spec.color]
    if not keys:
        return [table]
    return [line for _, line in table.groupby(keys, sort=False)]


def draw_figure(steps: pd.DataFrame, runs: pd.DataFrame, spec: FigureSpec, path: Path) -> None:
    """Draw one figure of a sweep (its per-step and per-run tables) into ``path``."""
    # matplotlib loads only when a figure is drawn.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = steps if spec.kind == "trajectory" else runs
    which = "per-step" if spec.kind == "trajectory" else "per-run"
    for column in (spec.x, spec.y, spec.color):
        if column is not None and column not in table.columns:
            raise InputError(
                f"figure: no column {column!r} in the {which} table; columns are "
                f"{list(table.columns)}."
            )
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    groups = [(None, table)] if spec.color is None else list(table.groupby(spec.color))
    colours = plt.get_cmap("viridis")(np.linspace(0.05, 0.9, max(1, len(groups))))
    for colour, (value, group) in zip(colours, groups, strict=True):
        label = None if value is None else f"{spec.color} = {value!s}"
        if spec.kind == "trajectory":
            for run in _trajectories(group, spec):
                axes.plot(run[spec.x], run[spec.y], color=colour, alpha=0.35, linewidth=0.8)
            axes.plot([], [], color=colour, label=label)
        else:
            mean = group.groupby(spec.x)[spec.y].mean()
            axes.plot(mean.index, mean.to_numpy(), marker="o", color=colour, label=label)
    axes.set_xlabel(spec.x.replace("_", " "))
    axes.set_ylabel(spec.y.replace("_", " "))
    if spec.title:
        axes.set_title(spec.title, fontsize=10)
    if spec.color is not None:
        axes.legend(fontsize=8, frameon=False)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
