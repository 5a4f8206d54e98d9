"""Intervals over runs: a t interval for a mean, a Wilson interval for a rate, and a
percentile bootstrap over runs for statistics that are not means."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy.stats import t as student_t

from monoculture.aggregate import wilson_interval
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.metrics import Estimate

__all__ = ["bootstrap_over_runs", "mean_interval", "rate_interval"]


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level must lie strictly between 0 and 1; got {level}.")


def mean_interval(
    values: np.ndarray,
    *,
    level: float = 0.95,
    what: str = "value",
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> Estimate:
    """The mean of per-run ``values`` with its t interval (as GovSim reports survival time,
    ``statsmodels`` ``DescrStatsW.tconfint_mean``), clipped to the figure's possible
    ``bounds`` (a share cannot fall below 0). NaN values are left out; fewer than two give
    NaN bounds with a warning."""
    _check_level(level)
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    n = len(values)
    method = f"t interval over runs, level {level}"
    if n == 0:
        warnings.warn(f"{what}: no run defines it; NaN.", UndefinedMetricWarning, stacklevel=3)
        return Estimate(float("nan"), float("nan"), float("nan"), 0, method)
    mean = float(values.mean())
    if n < 2:
        warnings.warn(
            f"{what}: an interval needs at least two runs; got {n}.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return Estimate(mean, float("nan"), float("nan"), n, method)
    half = float(student_t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return Estimate(mean, low, high, n, method)


def rate_interval(successes: np.ndarray, *, level: float = 0.95) -> Estimate:
    """The share of runs where ``successes`` is true, with its Wilson interval."""
    _check_level(level)
    successes = np.asarray(successes, dtype=bool)
    n = len(successes)
    low, high = wilson_interval(float(successes.sum()), n, level)
    value = float(successes.mean()) if n else float("nan")
    return Estimate(value, low, high, n, f"Wilson interval over runs, level {level}")


def bootstrap_over_runs(
    statistic: Callable[[np.ndarray], np.ndarray],
    n_runs: int,
    *,
    level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Estimate:
    """A statistic of runs with its percentile bootstrap interval, runs resampled.

    ``statistic(weights)`` takes ``(k, n_runs)`` multiplicities of the runs (row 0 all
    ones: the data as given) and returns ``(k,)`` values, so every resample is computed in
    one batched call."""
    _check_level(level)
    method = f"percentile bootstrap over runs, {n_resamples} resamples, seed {seed}, level {level}"
    if n_runs < 2:  # one run resampled is itself: no interval, not a zero-width one
        warnings.warn(
            f"an interval over runs needs at least two runs; got {n_runs}.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        value = float(np.asarray(statistic(np.ones((1, n_runs))), dtype=np.float64)[0])
        return Estimate(value, float("nan"), float("nan"), n_runs, method)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_runs, size=(n_resamples, n_runs))
    offsets = (np.arange(n_resamples) * n_runs)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_runs)
    weights = np.vstack([np.ones(n_runs), counts.reshape(n_resamples, n_runs)])
    values = np.asarray(statistic(weights), dtype=np.float64)
    resampled = values[1:][np.isfinite(values[1:])]
    if not np.isfinite(values[0]) or len(resampled) == 0:
        return Estimate(float(values[0]), float("nan"), float("nan"), n_runs, method)
    low, high = np.quantile(resampled, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(float(values[0]), float(low), float(high), n_runs, method)
