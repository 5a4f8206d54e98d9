"""Calibration of probe families: does each model beat chance on each family, with each
way of asking?

A swarm measured on items where its agents are at chance measures their guessing (for small
models mostly the position they prefer), not their knowledge; `calibration_table` says,
from an experiment's outcome table, which families are worth running.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import beta, binomtest, norm

__all__ = ["IntervalMethod", "calibration_table", "proportion_interval"]

IntervalMethod = Literal["wilson", "clopper-pearson"]


def proportion_interval(
    successes: int, trials: int, *, level: float = 0.95, method: IntervalMethod = "wilson"
) -> tuple[float, float]:
    """A two-sided interval for a binomial proportion: Wilson's score interval (Wilson 1927,
    JASA 22:209) or the exact Clopper-Pearson interval (Biometrika 26:404, 1934). NaN for no
    trials.

    Example:
        >>> tuple(round(v, 4) for v in proportion_interval(7, 16))
        (0.231, 0.6682)
    """
    if trials <= 0:
        return float("nan"), float("nan")
    alpha = 1 - level
    if method == "clopper-pearson":
        low = (
            0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
        )
        high = (
            1.0
            if successes == trials
            else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
        )
        return low, high
    if method != "wilson":
        raise ValueError(f"method must be 'wilson' or 'clopper-pearson'; got {method!r}.")
    z = float(norm.ppf(1 - alpha / 2))
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return float(centre - half), float(centre + half)


def calibration_table(
    outcomes: pd.DataFrame, *, level: float = 0.95, method: IntervalMethod = "wilson"
) -> pd.DataFrame:
    """Accuracy against chance per model, family and elicitation.

    ``outcomes`` is an experiment's outcome table (one row per call: ``model``, ``family``,
    ``elicitation``, ``kind``, ``status``, ``correct``, ``n_options``). Only answer calls
    that came back count; each (agent, item) is one trial.

    Returns one row per (model, family, elicitation): ``n``, ``correct``, ``accuracy``, the
    interval (``ci_low``, ``ci_high``), ``chance`` (the mean of 1 / number of options),
    ``p_value`` (one-sided exact binomial test of accuracy > chance) and ``above_chance``
    (the interval's lower end above chance).
    """
    rows = outcomes[(outcomes["kind"] == "answer") & (outcomes["status"] != "failed")]
    records = []
    for (model, family, elicitation), group in rows.groupby(
        ["model", "family", "elicitation"], sort=True
    ):
        n = len(group)
        right = int(group["correct"].sum())
        chance = float(np.mean(1.0 / group["n_options"].to_numpy(dtype=float)))
        low, high = proportion_interval(right, n, level=level, method=method)
        records.append(
            {
                "model": model,
                "family": family,
                "elicitation": elicitation,
                "n": n,
                "correct": right,
                "accuracy": right / n,
                "ci_low": low,
                "ci_high": high,
                "chance": chance,
                "p_value": float(binomtest(right, n, chance, alternative="greater").pvalue),
                "above_chance": bool(low > chance),
            }
        )
    return pd.DataFrame(records)
