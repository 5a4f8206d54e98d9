"""A swarm that drifts coherently, replayed through monitors: the README's figure.

2,000 decisions of a simulated 15-agent swarm in control (accuracy 0.7, homogeneity 0.3),
then 1,000 after a coherent drift (accuracy 0.55, homogeneity 0.8: the agents agree more
and are wrong more). Writes OUT/stream.csv and OUT/monitors.toml (so that
``monoculture guard replay OUT/stream.csv --monitors OUT/monitors.toml --change-step 2000``
reproduces the alarms) and OUT/replay.png.

Run: ``.venv/bin/python examples/guard/coherent_drift.py OUT``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from monoculture.guard import decision_stream, load_monitors, replay
from monoculture.simulate.classification import ClassificationConfig, run_classification

STABLE, DRIFTED = 2000, 1000

MONITORS = """version = 1

[[monitor]]
name = "canary accuracy"
kind = "bernoulli_cusum"
signal = "correct"
reference_steps = 500          # the in-control error rate from the first 500 canaries
odds_ratio = 2
target_arl = 2000

[[monitor]]
name = "synchronisation"
kind = "synchronisation"
signal = "agreement"
reference_steps = 500
target_arl = 2000
"""


def segment(seed: int, n: int, accuracy: float, homogeneity: float) -> pd.DataFrame:
    config = ClassificationConfig(
        n_agents=15,
        n_steps=1,
        items_per_step=n,
        accuracy=accuracy,
        homogeneity=homogeneity,
        seed=seed,
    )
    return decision_stream(run_classification(config).responses[0][0])


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stream = pd.concat(
        [segment(1, STABLE, 0.7, 0.3), segment(2, DRIFTED, 0.55, 0.8)], ignore_index=True
    )
    stream["step"] = np.arange(len(stream))
    stream["item_id"] = [f"d{i}" for i in range(len(stream))]
    stream.to_csv(out / "stream.csv", index=False)
    (out / "monitors.toml").write_text(MONITORS)
    result = replay(stream, load_monitors(out / "monitors.toml"), change_step=STABLE)
    print(result.summary.to_string(index=False))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    window = 100
    rolling = stream[["agreement", "correct"]].rolling(window, min_periods=20).mean()
    ax.plot(rolling.index, rolling["agreement"], label="agreement (rolling 100)", color="#2563eb")
    ax.plot(rolling.index, rolling["correct"], label="accuracy (rolling 100)", color="#16a34a")
    ax.axvline(STABLE, color="#6b7280", linestyle="--", linewidth=1)
    ax.text(STABLE + 15, 0.32, "coherent drift", color="#6b7280", fontsize=8)
    colors = {"canary accuracy": "#dc2626", "synchronisation": "#ea580c"}
    for name, rows in result.alarms.groupby("monitor"):
        ax.scatter(
            rows["step"], np.full(len(rows), 0.97), marker="v", color=colors.get(str(name)),
            label=f"alarm: {name}", zorder=3,
        )
    ax.set_ylim(0.3, 1.0)
    ax.set_xlabel("decision")
    ax.legend(loc="lower left", fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "replay.png")
    print(f"Wrote {out}/stream.csv, monitors.toml, replay.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/coherent-drift"))
