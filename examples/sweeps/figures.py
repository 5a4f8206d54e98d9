"""Print the figures the README quotes from the two shipped sweeps.

    monoculture simulate examples/sweeps/determinism_homogeneity.toml -o runs/determinism
    monoculture simulate examples/sweeps/drift.toml -o runs/drift
    python examples/sweeps/figures.py runs
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def main(root: Path) -> None:
    runs = pd.read_parquet(root / "determinism" / "runs.parquet")
    cells = runs.groupby(["homogeneity", "temperature"])[
        ["mean_error_consistency", "plurality_error"]
    ].mean()
    top = cells.loc[0.95]
    print(
        "determinism x homogeneity: mean error consistency at homogeneity 0.95: "
        f"{top.loc[0.0, 'mean_error_consistency']:.2f} at temperature 0, "
        f"{top.loc[1.0, 'mean_error_consistency']:.2f} at temperature 1; plurality error "
        f"{cells.loc[0.0].loc[0.0, 'plurality_error']:.2f} at homogeneity 0 -> "
        f"{top.loc[0.0, 'plurality_error']:.2f} at 0.95 (temperature 0)"
    )
    steps = pd.read_parquet(root / "drift" / "steps.parquet")
    last = steps[steps["step"] == steps["step"].max()]
    spread = last.groupby("homogeneity")["collective_error"].std()
    diversity = steps.groupby("homogeneity")["diversity"].mean()
    n_runs = last.groupby("homogeneity").size().iloc[0]
    print(
        f"coherent drift: diversity {diversity.iloc[-1]:.2f} (homogeneity "
        f"{diversity.index[-1]:g}) vs {diversity.iloc[0]:.2f} ({diversity.index[0]:g}); "
        f"collective error at the last step ({int(last['step'].iloc[0])}) spreads across "
        f"{n_runs} runs with sd {spread.iloc[-1]:.2f} vs {spread.iloc[0]:.2f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs"))
