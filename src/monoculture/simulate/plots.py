"""Figures of a sweep, drawn with matplotlib (PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.simulate.sweep import FigureSpec, SweepResult


def draw_figure(result: SweepResult, spec: FigureSpec, path: Path) -> None:
    """Draw one figure of a sweep into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.steps if spec.kind == "trajectory" else result.runs
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
            for _, run in group.groupby("run"):
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
