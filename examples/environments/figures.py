"""The README's coherent-drift figure of the long-horizon demo (``monoculture demo --long``).

Reads ``RUN/estimation`` (``environment.parquet`` and ``designs.json``, as ``monoculture
run`` writes them for an environment experiment) and writes ``OUT/coherent-drift.png``: per
design, the collective error and the spread of estimates within a run of every LLM run over
the steps, against the 10-90 % band of the simulator fitted to the same agents.

Run: ``.venv/bin/python examples/environments/figures.py runs/demo docs/figures``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")


def _paths(folder: Path) -> pd.DataFrame:
    document = json.loads((folder / "designs.json").read_text())
    return pd.DataFrame(document["trajectories"])


def drift_figure(folder: Path, out: Path) -> None:
    paths = _paths(folder)
    table = pd.read_parquet(folder / "environment.parquet")
    designs = list(dict.fromkeys(table["design"]))
    figure, axes = plt.subplots(2, len(designs), figsize=(4.4 * len(designs), 6.0), sharex=True)
    rows = (
        ("collective_error", "collective error (mean estimate - truth)"),
        ("within_spread", "sd of the estimates within a run"),
    )
    for column, (design, colour) in enumerate(zip(designs, COLOURS, strict=False)):
        own = table[table["design"] == design].assign(error=lambda t: t["action"] - t["truth"])
        grouped = own.groupby(["run", "step"])
        per_run = {
            "collective_error": grouped["error"].mean().unstack("step"),
            "within_spread": grouped["action"].std(ddof=0).unstack("step"),
        }
        for row, (quantity, label) in enumerate(rows):
            axis = axes[row, column]
            simulated = paths[
                (paths["design"] == design)
                & (paths["source"] == "simulator")
                & (paths["quantity"] == quantity)
            ]
            steps = simulated["step"] + 1
            axis.fill_between(steps, simulated["low"], simulated["high"], color="grey", alpha=0.2)
            axis.plot(
                steps, simulated["mean"], ":", color="grey", label="fitted simulator, 10-90 %"
            )
            runs = per_run[quantity]
            for _, values in runs.iterrows():
                axis.plot(values.index + 1, values.to_numpy(), color=colour, alpha=0.6, lw=1)
            axis.plot([], [], color=colour, label=f"LLM runs ({len(runs)})")
            if quantity == "collective_error":
                axis.axhline(0, color="black", linewidth=0.5)
                axis.set_title(design, fontsize=10)
            axis.set_ylabel(label if column == 0 else "", fontsize=8)
            axis.legend(fontsize=7)
        axes[1, column].set_xlabel("step")
    figure.suptitle(
        "Coherent drift: Gemma 3 270M swarms (each run a line) and their fitted simulators",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(out / "coherent-drift.png", dpi=110)


def main(run: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    drift_figure(run / "estimation", out)
    print(f"Wrote {out}/coherent-drift.png")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: figures.py RUN_FOLDER OUT_FOLDER (e.g. runs/demo docs/figures)")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
