"""Swarm designs compared on one environment: each design's figures over runs (GovSim's
for the commons, the diversity prediction theorem's and coherent drift for the estimation),
how alike its agents decide, and the prediction of the parametric simulator fitted to its
agents' one-step behaviour, next to it.

How alike the agents decide, per (run, step) cell of a design's long table:

- ``agreement``: the share of pairs of agents in a cell that took the same action, over the
  pairs whose answers both parsed (1 when the whole swarm acts as one);
- ``decision_correlation``: the mean over agent pairs of the Pearson correlation, across
  cells, of each agent's *decision deviation*: in the commons ``log(max(request, 0.5) /
  sustainable)`` (how far above or below the sustainable harvest it asks, the quantity the
  simulator's policy draws; cells with a sustainable harvest of 0 are left out), in the
  estimation ``estimate − truth`` (its error), over the cells where every answer parsed.
  Pairs with an agent whose deviation never varies are left out; NaN when no pair is left
  (e.g. every agent always asks 10).

And how alike the runs are: ``run_agreement``, for each (step, agent), the share of pairs
of runs in which the agent took the same action (answers that parsed); 1 when every run
repeats the same decisions, as greedy agents on identical prompts do.

All three come with a percentile bootstrap over runs (cells of a run stay together),
computed for all resamples in a few batched products. An unparsed answer's default (0
tons in the commons) is not a decision: it counts in none of the three.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from monoculture.environments._commons import Commons, commons_metrics
from monoculture.environments._estimation import DriftingEstimation, estimation_metrics
from monoculture.environments._intervals import bootstrap_over_runs, mean_interval
from monoculture.environments._policies import fit_commons_policy, fit_estimation_policy
from monoculture.environments._protocol import Environment, Policy, play
from monoculture.errors import InputError, undefined_messages
from monoculture.metrics import Estimate

__all__ = [
    "DesignComparison",
    "compare_designs",
    "decision_agreement",
    "decision_correlation",
    "design_figures",
    "run_agreement",
    "trajectories",
]

_LOW, _HIGH = 0.1, 0.9  # the band of a trajectory across runs


def _flat_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The table with one ``run`` id per (repetition, run), numbered from 0."""
    missing = [c for c in ("run", "step", "agent", "action") if c not in table.columns]
    if missing:
        raise InputError(
            f"the table lacks columns {missing}; pass an environment long table (play() or "
            "environment.parquet)."
        )
    if "repetition" in table.columns and table["repetition"].nunique() > 1:
        key = table["repetition"].astype(str) + "/" + table["run"].astype(str)
        return table.assign(run=pd.factorize(key, sort=True)[0])
    return table.assign(run=pd.factorize(table["run"], sort=True)[0])


def _deviation(table: pd.DataFrame, environment: Environment[Any]) -> pd.Series:
    needs = "sustainable" if isinstance(environment, Commons) else "truth"
    if needs not in table.columns:
        raise InputError(f"the table lacks the column {needs!r} of the {environment.name}.")
    if isinstance(environment, Commons):
        sustainable = table["sustainable"].to_numpy(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log(np.maximum(table["action"].to_numpy(np.float64), 0.5) / sustainable)
        return pd.Series(np.where(sustainable > 0, ratio, np.nan), index=table.index)
    if isinstance(environment, DriftingEstimation):
        return table["action"] - table["truth"]
    raise InputError(
        f"decision deviations are defined for the commons and the estimation; got "
        f"{environment.name!r}."
    )


def _parsed(table: pd.DataFrame) -> pd.Series:
    """The actions, NaN where the answer did not parse (its default is not a decision)."""
    actions = table["action"].astype(np.float64)
    if "valid" in table.columns:
        actions = actions.where(table["valid"].astype(bool))
    return actions


def _grid(table: pd.DataFrame, values: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """``(cells, n_agents)`` values of every (run, step) cell (NaN where an agent has none),
    each cell's run, and the number of runs."""
    frame = _flat_runs(table).assign(_value=values.to_numpy())
    grid = frame.pivot_table(index=["run", "step"], columns="agent", values="_value", dropna=False)
    runs = grid.index.get_level_values("run").to_numpy(np.int64)
    return grid.to_numpy(np.float64), runs, int(frame["run"].nunique())


def _per_run(values: np.ndarray, runs: np.ndarray, n_runs: int) -> np.ndarray:
    """Sums of ``values`` (cells, ...) per run: (n_runs, ...). A resample's weighted sum over
    cells is then ``weights @ per_run``, in memory of the runs, not of the cells."""
    totals = np.zeros((n_runs, *values.shape[1:]))
    np.add.at(totals, runs, values)
    return totals


def decision_agreement(
    table: pd.DataFrame, *, level: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> Estimate:
    """The share of pairs of agents in the same (run, step) that took the same action, over
    the pairs whose answers both parsed (module docstring), with a percentile bootstrap
    over runs.

    Example:
        >>> table = pd.DataFrame({"run": [0, 0, 0, 1, 1, 1], "step": 0, "agent": [0, 1, 2] * 2,
        ...                       "action": [10, 10, 20, 5, 5, 5]})
        >>> round(decision_agreement(table, n_resamples=10).value, 4)  # (1 + 3) / (3 + 3)
        0.6667
    """
    table = _flat_runs(table)
    actions, runs, n_runs = _grid(table, _parsed(table))
    n = actions.shape[1]
    if n < 2 or not len(actions):
        return Estimate(math.nan, math.nan, math.nan, n_runs, "needs two agents and a step")
    off_diagonal = ~np.eye(n, dtype=bool)
    alike = ((actions[:, :, None] == actions[:, None, :]) & off_diagonal).sum(axis=(1, 2)) / 2
    answered = np.isfinite(actions).sum(axis=1)
    alike_runs = _per_run(alike.astype(np.float64), runs, n_runs)
    pairs_runs = _per_run(answered * (answered - 1) / 2.0, runs, n_runs)

    def statistic(weights: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray((weights @ alike_runs) / (weights @ pairs_runs))

    return bootstrap_over_runs(statistic, n_runs, level=level, n_resamples=n_resamples, seed=seed)


def run_agreement(
    table: pd.DataFrame, *, level: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> Estimate:
    """How alike the runs are: for each (step, agent), the share of pairs of runs in which
    the agent took the same action at that step; the mean over (step, agent) cells that at
    least two runs reached, with a percentile bootstrap over runs (module docstring).

    1 when every run repeats the same decisions, as greedy agents do on identical prompts:
    determinism turns independent runs into copies of one.

    Example:
        >>> table = pd.DataFrame({"run": [0, 1, 2], "step": 0, "agent": 0,
        ...                       "action": [10.0, 10.0, 20.0]})
        >>> round(run_agreement(table, n_resamples=10).value, 4)  # 1 pair of 3 alike
        0.3333
    """
    from scipy import sparse

    flat = _flat_runs(table)
    n_runs = int(flat["run"].nunique())
    flat = flat[_parsed(flat).notna()]  # an unparsed answer's default is not a decision
    runs = flat["run"].to_numpy(np.int64)
    cells = pd.factorize(pd.MultiIndex.from_frame(flat[["step", "agent"]]))[0]
    groups, group_index = pd.factorize(
        pd.MultiIndex.from_arrays([cells, flat["action"].to_numpy(np.float64)])
    )
    n_groups, n_cells = len(group_index), int(cells.max()) + 1 if len(cells) else 0
    method = f"pairs of runs alike per (step, agent), over {n_cells} cells"
    if n_runs < 2 or not n_cells:
        return Estimate(math.nan, math.nan, math.nan, n_runs, method + "; needs two runs")
    ones = np.ones(len(flat))
    by_group = sparse.csr_matrix((ones, (groups, runs)), shape=(n_groups, n_runs))
    by_cell = sparse.csr_matrix((ones, (cells, runs)), shape=(n_cells, n_runs))
    group_cell = np.zeros(n_groups, dtype=np.int64)
    group_cell[groups] = cells
    to_cell = sparse.csr_matrix(
        (np.ones(n_groups), (np.arange(n_groups), group_cell)), shape=(n_groups, n_cells)
    )

    def pairs(weights: np.ndarray, membership: sparse.csr_matrix) -> np.ndarray:
        # Weighted pairs of distinct runs within each row: ((sum w)^2 - sum w^2) / 2.
        first = np.asarray(membership @ weights.T).T
        second = np.asarray(membership @ (weights**2).T).T
        return np.asarray((first**2 - second) / 2)

    def chunk(weights: np.ndarray) -> np.ndarray:
        alike = np.asarray(to_cell.T @ pairs(weights, by_group).T).T  # (k, cells)
        total = pairs(weights, by_cell)
        defined = total > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(defined, alike / np.where(defined, total, 1.0), 0.0)
            return np.asarray(share.sum(axis=1) / defined.sum(axis=1))

    def statistic(weights: np.ndarray) -> np.ndarray:
        # Resamples in chunks: a chunk's (groups, k) sums stay small for long simulations.
        return np.concatenate([chunk(weights[k : k + 64]) for k in range(0, len(weights), 64)])

    with np.errstate(invalid="ignore"):
        return bootstrap_over_runs(
            statistic, n_runs, level=level, n_resamples=n_resamples, seed=seed
        )


def decision_correlation(
    table: pd.DataFrame,
    environment: Environment[Any],
    *,
    level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> Estimate:
    """The mean pairwise correlation of the agents' decision deviations across (run, step)
    cells (module docstring), with a percentile bootstrap over runs; NaN when no pair of
    agents both vary."""
    table = _flat_runs(table)
    deviation = _deviation(table, environment).where(_parsed(table).notna())
    values, runs, n_runs = _grid(table, deviation)
    complete = np.isfinite(values).all(axis=1)  # cells where every agent's answer parsed
    values, runs = values[complete], runs[complete]
    n = values.shape[1]
    method = f"mean pairwise Pearson correlation over {len(values)} (run, step) cells"
    if n < 2 or len(values) < 2:
        return Estimate(math.nan, math.nan, math.nan, n_runs, method + "; needs two of each")
    products = (values[:, :, None] * values[:, None, :]).reshape(len(values), n * n)
    counts = _per_run(np.ones(len(values)), runs, n_runs)
    sums = _per_run(values, runs, n_runs)
    squares = _per_run(products, runs, n_runs)
    off_diagonal = ~np.eye(n, dtype=bool)

    def statistic(weights: np.ndarray) -> np.ndarray:
        total = (weights @ counts)[:, None]  # a run's multiplicity on each of its cells
        mean = weights @ sums / total
        second = (weights @ squares / total).reshape(-1, n, n)
        covariance = second - mean[:, :, None] * mean[:, None, :]
        variance = np.diagonal(covariance, axis1=1, axis2=2)
        scale = np.sqrt(np.maximum(variance[:, :, None] * variance[:, None, :], 0))
        defined = (scale > 1e-12 * np.maximum(1.0, np.abs(second))) & off_diagonal
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = np.where(defined, covariance / np.where(defined, scale, 1.0), 0.0)
            return np.asarray(correlation.sum(axis=(1, 2)) / defined.sum(axis=(1, 2)))

    with np.errstate(invalid="ignore"):
        estimate = bootstrap_over_runs(
            statistic, n_runs, level=level, n_resamples=n_resamples, seed=seed
        )
    if not np.isfinite(estimate.value):
        return Estimate(
            math.nan, math.nan, math.nan, n_runs, method + "; no two agents' decisions vary"
        )
    return estimate


def design_figures(
    table: pd.DataFrame,
    environment: Environment[Any],
    *,
    level: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Every figure of one design's long table, by name: the environment's metrics, then
    ``agreement``, ``decision_correlation`` and ``valid_share`` (the mean share of answers
    that parsed, per run)."""
    flat = _flat_runs(table)
    figures: dict[str, Estimate] = {}
    if isinstance(environment, Commons):
        commons = commons_metrics(flat, n_steps=environment.n_steps, level=level)
        figures.update({name: getattr(commons, name) for name in commons.FIGURES})
    elif isinstance(environment, DriftingEstimation):
        estimation = estimation_metrics(flat, level=level, n_resamples=n_resamples, seed=seed)
        figures.update({name: getattr(estimation, name) for name in estimation.FIGURES})
    else:
        raise InputError(f"design figures: unknown environment {environment.name!r}.")
    options: dict[str, Any] = {"level": level, "n_resamples": n_resamples, "seed": seed}
    figures["agreement"] = decision_agreement(flat, **options)
    figures["decision_correlation"] = decision_correlation(flat, environment, **options)
    figures["run_agreement"] = run_agreement(flat, **options)
    valid = flat.groupby("run")["valid"].mean().to_numpy(np.float64)
    figures["valid_share"] = mean_interval(
        valid, level=level, what="valid share", bounds=(0.0, 1.0)
    )
    return figures


def trajectories(table: pd.DataFrame, environment: Environment[Any]) -> pd.DataFrame:
    """The state over time across runs: ``quantity``, ``step``, ``mean``, ``low``, ``high``
    (the 10th and 90th percentiles across runs) and ``runs``.

    Commons: ``pool``, the lake at the start of each month (0 after a collapse).
    Estimation: ``collective`` (the run's mean estimate), ``truth``, ``collective_error``
    (their difference; its spread across runs is coherent drift) and ``within_spread`` (the
    sd of estimates inside a run).
    """
    flat = _flat_runs(table)
    n_runs = int(flat["run"].nunique())
    series: dict[str, np.ndarray] = {}  # quantity -> (runs, steps)
    if isinstance(environment, Commons):
        cells = flat.groupby(["run", "step"])["pool_before"].first().unstack("step")
        cells = cells.reindex(columns=range(environment.n_steps))
        series["pool"] = cells.fillna(0.0).to_numpy(np.float64)
    elif isinstance(environment, DriftingEstimation):
        grouped = flat.assign(error=flat["action"] - flat["truth"]).groupby(["run", "step"])
        series["collective"] = grouped["action"].mean().unstack("step").to_numpy(np.float64)
        series["truth"] = grouped["truth"].first().unstack("step").to_numpy(np.float64)
        series["collective_error"] = grouped["error"].mean().unstack("step").to_numpy(np.float64)
        spread = grouped["action"].std(ddof=0).unstack("step")
        series["within_spread"] = spread.to_numpy(np.float64)
    else:
        raise InputError(f"trajectories: unknown environment {environment.name!r}.")
    rows = []
    for quantity, values in series.items():
        steps = values.shape[1]
        with warnings.catch_warnings():  # a step no run reached is NaN, on purpose
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(values, axis=0)
            low, high = np.nanquantile(values, [_LOW, _HIGH], axis=0)
        rows.append(
            pd.DataFrame(
                {
                    "quantity": quantity,
                    "step": np.arange(steps),
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "runs": n_runs,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _fit(table: pd.DataFrame, environment: Environment[Any]) -> Policy:
    if isinstance(environment, Commons):
        return fit_commons_policy(table)
    if isinstance(environment, DriftingEstimation):
        return fit_estimation_policy(table)
    raise InputError(f"no parametric policy for the environment {environment.name!r}.")


@dataclass(frozen=True)
class DesignComparison:
    """Designs compared on one environment (`compare_designs`).

    Attributes:
        summary: one row per (design, source, metric): ``source`` is ``llm`` (the agents'
            own runs) or ``simulator`` (the parametric policy fitted to them, played for
            many runs); ``value``, ``ci_low``, ``ci_high``, ``n`` (runs), ``method``.
        trajectories: `trajectories` of every (design, source).
        fitted: the fitted policy's parameters per design.
        notes: why a figure is undefined or a simulator is missing.
    """

    environment: str
    summary: pd.DataFrame
    trajectories: pd.DataFrame
    fitted: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def value(self, design: str, metric: str, source: str = "llm") -> float:
        """One figure's point value (NaN when the comparison lacks it)."""
        rows = self.summary[
            (self.summary["design"] == design)
            & (self.summary["metric"] == metric)
            & (self.summary["source"] == source)
        ]
        return float(rows["value"].iloc[0]) if len(rows) else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None): ``environment``, ``summary``, ``trajectories``,
        ``fitted``, ``notes``."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{str(k): v for k, v in row.items()} for row in clean.to_dict(orient="records")]

        return {
            "environment": self.environment,
            "summary": records(self.summary),
            "trajectories": records(self.trajectories),
            "fitted": self.fitted,
            "notes": list(self.notes),
        }


def compare_designs(
    tables: Mapping[str, pd.DataFrame],
    environments: Mapping[str, Environment[Any]],
    *,
    simulator_runs: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    n_resamples: int = 1000,
) -> DesignComparison:
    """Each design's figures from its long table (``tables[design]``, played on
    ``environments[design]``), and, with ``simulator_runs`` > 0, those of the parametric
    policy fitted to its agents' one-step behaviour (`fit_commons_policy`,
    `fit_estimation_policy`) played ``simulator_runs`` runs with the same ``seed``.

    Undefined figures (e.g. a correlation where no agent's decision varies) are NaN; why is
    in ``notes``, as is a design whose simulator could not be fitted.
    """
    if not tables:
        raise InputError("compare_designs: no design to compare.")
    missing = sorted(set(tables) - set(environments))
    if missing:
        raise InputError(f"compare_designs: no environment for design(s) {missing}.")
    kinds = {environments[name].name for name in tables}
    if len(kinds) > 1:
        raise InputError(f"compare_designs: the designs play different environments {kinds}.")
    if simulator_runs < 0:
        raise InputError(f"compare_designs: simulator_runs must be >= 0; got {simulator_runs}.")
    summary: list[dict[str, Any]] = []
    paths: list[pd.DataFrame] = []
    fitted: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    options: dict[str, Any] = {"level": level, "n_resamples": n_resamples, "seed": seed}

    def add(design: str, source: str, table: pd.DataFrame, environment: Environment[Any]) -> None:
        with undefined_messages() as undefined:
            figures = design_figures(table, environment, **options)
        notes.extend(f"{design} ({source}): {message}" for message in undefined)
        for metric, estimate in figures.items():
            row = {"design": design, "source": source, "metric": metric}
            summary.append({**row, **estimate.to_dict()})
            if not np.isfinite(estimate.value):
                notes.append(f"{design} ({source}): {metric} is undefined ({estimate.method}).")
        paths.append(trajectories(table, environment).assign(design=design, source=source))

    for design, table in tables.items():
        environment = environments[design]
        if not len(table):
            notes.append(f"{design}: no steps were played; left out.")
            continue
        add(design, "llm", table, environment)
        if simulator_runs == 0:
            continue
        try:
            policy = _fit(_flat_runs(table), environment)
        except InputError as error:
            notes.append(f"{design}: no simulator ({error})")
            continue
        fitted[design] = {"policy": type(policy).__name__, **_parameters(policy)}
        parsed = int(table["valid"].sum()) if "valid" in table.columns else len(table)
        if parsed < len(table):
            notes.append(
                f"{design}: the simulator is fitted to the {parsed:,} of {len(table):,} answers "
                "that parsed; the agents' runs also hold the defaults the others were "
                "replaced by."
            )
        simulated = play(environment, policy, runs=simulator_runs, seed=seed).table
        add(design, "simulator", simulated, environment)
    if not summary:
        raise InputError("compare_designs: no design played a step.")
    ordered = pd.DataFrame(summary)
    columns = ["design", "source", "quantity", "step", "mean", "low", "high", "runs"]
    return DesignComparison(
        environment=next(iter(kinds)),
        summary=ordered,
        trajectories=pd.concat(paths, ignore_index=True)[columns],
        fitted=fitted,
        notes=list(dict.fromkeys(notes)),
    )


def _parameters(policy: Policy) -> dict[str, Any]:
    if not is_dataclass(policy) or isinstance(policy, type):
        return {}
    return {k: v for k, v in asdict(policy).items() if k != "constitutions"}
