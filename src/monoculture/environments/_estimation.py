"""Drifting estimation: a hidden quantity drifts (a random walk, or regime shifts); each
step every agent gets a private noisy observation of it and, through a network, its peers'
previous estimates, and answers a number.

Long-table columns per (run, step, agent): ``action`` (the estimate applied), ``valid``,
``truth``, ``observation`` (the agent's private observation), ``previous`` (its own last
estimate), ``peer_mean`` (the mean of its peers' previous estimates; NaN at the first step
or without peers) and ``collective`` (the run's mean estimate this step). An invalid answer
is replaced by the agent's own observation.

Metrics: the diversity prediction theorem's terms per (run, step) (Page 2007, *The
Difference*, ch. 8; collective squared error = average individual squared error −
diversity, exactly), and coherent drift: the spread of the collective error across runs
against the spread of estimates within a run.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from monoculture.environments._intervals import bootstrap_over_runs, mean_interval
from monoculture.environments._protocol import ActionSpace
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.metrics import Estimate
from monoculture.simulate.network import NetworkKind, build_graph

__all__ = [
    "DriftingEstimation",
    "EstimationMetrics",
    "EstimationState",
    "diversity_terms",
    "estimation_metrics",
]


@dataclass(frozen=True)
class EstimationState:
    """Every run at the start of a step.

    Attributes:
        truth: ``(runs,)`` the hidden quantity.
        step: steps played so far.
        observation: ``(runs, n_agents)`` this step's private observations.
        previous: ``(runs, n_agents)`` last step's estimates (NaN before the first).
    """

    truth: np.ndarray
    step: int
    observation: np.ndarray
    previous: np.ndarray


@dataclass(frozen=True)
class DriftingEstimation:
    """A hidden quantity that drifts, estimated by a networked swarm.

    Attributes:
        n_agents, n_steps: agents; steps per run.
        start: the quantity's value at the first step.
        drift: ``random_walk`` (a normal step of sd ``drift_scale`` after every step) or
            ``regime_shift`` (with probability ``regime_probability`` a normal jump of sd
            ``regime_jump``, else no change).
        observation_noise: sd of each agent's private observation around the truth.
        network: who sees whose previous estimate (`monoculture.simulate.network`:
            ``none``, ``complete``, ``small_world``, ``scale_free``), with ``degree``,
            ``rewire`` and ``network_seed`` for the random graphs.
        bound: answers further than this from ``start`` are invalid (replaced by the
            agent's own observation).

    Observation (numbers): ``observation``, ``previous``, ``peer_mean``, ``step``
    (1-based).
    """

    n_agents: int = 10
    n_steps: int = 20
    start: float = 50.0
    drift: Literal["random_walk", "regime_shift"] = "random_walk"
    drift_scale: float = 2.0
    regime_probability: float = 0.1
    regime_jump: float = 10.0
    observation_noise: float = 5.0
    network: NetworkKind = "complete"
    degree: int = 4
    rewire: float = 0.1
    network_seed: int = 0
    bound: float = 1000.0
    name: str = "estimation"
    columns: tuple[str, ...] = ("truth", "observation", "previous", "peer_mean", "collective")

    def __post_init__(self) -> None:
        if self.n_agents < 1 or self.n_steps < 1:
            raise InputError(
                "DriftingEstimation: n_agents and n_steps must be at least 1; got "
                f"{self.n_agents} and {self.n_steps}."
            )
        if self.drift not in ("random_walk", "regime_shift"):
            raise InputError(
                "DriftingEstimation: drift must be 'random_walk' or 'regime_shift'; got "
                f"{self.drift!r}."
            )
        for label, value in (
            ("drift_scale", self.drift_scale),
            ("regime_jump", self.regime_jump),
            ("observation_noise", self.observation_noise),
            ("bound", self.bound),
        ):
            if not value >= 0:
                raise InputError(f"DriftingEstimation: {label} must be >= 0; got {value}.")
        if not 0 <= self.regime_probability <= 1:
            raise InputError(
                "DriftingEstimation: regime_probability must lie in [0, 1]; got "
                f"{self.regime_probability}."
            )
        self.peers  # noqa: B018 - build the network now, so a bad one fails at once

    @property
    def action_space(self) -> ActionSpace:
        # NaN default: the transition puts the agent's own observation in its place.
        return ActionSpace(
            low=self.start - self.bound, high=self.start + self.bound, default=float("nan")
        )

    @functools.cached_property
    def peers(self) -> np.ndarray:
        """``(n_agents, n_agents)`` bool: ``peers[i, j]`` when agent i sees agent j's
        previous estimate (no self-loops)."""
        graph = build_graph(
            self.network,
            self.n_agents,
            degree=self.degree,
            rewire=self.rewire,
            seed=self.network_seed,
        )
        adjacency = np.zeros((self.n_agents, self.n_agents), dtype=bool)
        for i, j in graph.edges():
            if i != j:
                adjacency[i, j] = adjacency[j, i] = True
        return adjacency

    def _observe_truth(self, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.standard_normal((len(truth), self.n_agents))
        return np.asarray(truth[:, None] + self.observation_noise * noise)

    def reset(self, runs: int, rng: np.random.Generator) -> EstimationState:
        truth = np.full(runs, float(self.start))
        return EstimationState(
            truth=truth,
            step=0,
            observation=self._observe_truth(truth, rng),
            previous=np.full((runs, self.n_agents), np.nan),
        )

    def active(self, state: EstimationState) -> np.ndarray:
        return np.full(len(state.truth), state.step < self.n_steps)

    def peer_mean(self, previous: np.ndarray) -> np.ndarray:
        """``(runs, n_agents)`` mean of each agent's peers' ``previous`` estimates (NaN
        without peers or before the first step)."""
        peers = self.peers.astype(np.float64)
        counts = peers.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray((previous @ peers.T) / np.where(counts > 0, counts, np.nan))

    def observe(self, state: EstimationState) -> dict[str, np.ndarray]:
        shape = state.observation.shape
        return {
            "observation": state.observation.copy(),
            "previous": state.previous.copy(),
            "peer_mean": self.peer_mean(state.previous),
            "step": np.full(shape, state.step + 1, dtype=np.float64),
        }

    def prompt(self, state: EstimationState, run: int, agent: int) -> str:
        lines = [
            f"You are one of {self.n_agents} agents tracking a hidden quantity that changes "
            f"over time. This is step {state.step + 1} of {self.n_steps}.",
            f"Your own measurement of the quantity now is {state.observation[run, agent]:.2f}; "
            f"measurements are noisy (typically off by about {self.observation_noise:g}).",
        ]
        if state.step > 0:
            lines.append(f"Your previous estimate was {state.previous[run, agent]:.2f}.")
            seen = np.nonzero(self.peers[agent])[0]
            if len(seen):
                shown = ", ".join(f"{state.previous[run, j]:.2f}" for j in seen)
                lines.append(f"The previous estimates of the agents you talk to: {shown}.")
        lines.append(
            "What is your best estimate of the hidden quantity now? Answer with the number only."
        )
        return "\n".join(lines)

    def reference_answer(self, state: EstimationState, run: int) -> str:
        return f"{state.truth[run]:.2f}"

    def step(
        self,
        state: EstimationState,
        actions: np.ndarray,
        valid: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[EstimationState, dict[str, np.ndarray]]:
        estimates = np.where(valid, np.asarray(actions, dtype=np.float64), state.observation)
        shape = estimates.shape
        record = {
            "action": estimates,
            "truth": np.broadcast_to(state.truth[:, None], shape).copy(),
            "observation": state.observation,
            "previous": state.previous,
            "peer_mean": self.peer_mean(state.previous),
            "collective": np.broadcast_to(estimates.mean(axis=1)[:, None], shape).copy(),
        }
        runs = len(state.truth)
        if self.drift == "random_walk":
            truth = state.truth + self.drift_scale * rng.standard_normal(runs)
        else:
            jumps = rng.random(runs) < self.regime_probability
            truth = state.truth + jumps * self.regime_jump * rng.standard_normal(runs)
        new = EstimationState(
            truth=truth,
            step=state.step + 1,
            observation=self._observe_truth(truth, rng),
            previous=estimates,
        )
        return new, record


def diversity_terms(estimates: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """The diversity prediction theorem's terms of ``estimates`` ``(..., n_agents)`` around
    ``truth`` ``(...)``: ``collective_error`` (mean estimate − truth), ``collective_sq_error``,
    ``mean_sq_error`` (average individual squared error) and ``diversity`` (mean squared
    deviation from the mean estimate). ``collective_sq_error = mean_sq_error − diversity``
    (Page 2007).

    Example:
        >>> terms = diversity_terms(np.array([1.0, 3.0]), np.array(1.0))
        >>> [float(terms[k]) for k in ("collective_sq_error", "mean_sq_error", "diversity")]
        [1.0, 2.0, 1.0]
    """
    errors = (
        np.asarray(estimates, dtype=np.float64) - np.asarray(truth, dtype=np.float64)[..., None]
    )
    collective = errors.mean(axis=-1)
    return {
        "collective_error": collective,
        "collective_sq_error": collective**2,
        "mean_sq_error": (errors**2).mean(axis=-1),
        "diversity": ((errors - collective[..., None]) ** 2).mean(axis=-1),
    }


@dataclass(frozen=True)
class EstimationMetrics:
    """Collective error, diversity and coherent drift over runs.

    Attributes:
        collective_sq_error, mean_sq_error, diversity: the theorem's terms averaged over a
            run's steps, then over runs (t intervals).
        across_run_spread: ``sqrt(mean_t Var_runs(collective error at t))``: how far apart
            the runs' collective errors drift (coherent drift: large when a swarm shares its
            error).
        within_run_spread: ``sqrt(mean diversity)``: the spread of estimates inside a run.
        coherence: ``across_run_spread / within_run_spread`` (percentile bootstrap over runs
            for these three).
        steps: one row per (run, step): ``truth``, ``collective``, and the theorem's terms.
    """

    collective_sq_error: Estimate
    mean_sq_error: Estimate
    diversity: Estimate
    across_run_spread: Estimate
    within_run_spread: Estimate
    coherence: Estimate
    steps: pd.DataFrame

    FIGURES: ClassVar[tuple[str, ...]] = (
        "collective_sq_error",
        "mean_sq_error",
        "diversity",
        "across_run_spread",
        "within_run_spread",
        "coherence",
    )
    """The figures, in the order tables show them."""

    def to_frame(self) -> pd.DataFrame:
        """One row per figure: ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``,
        ``method``."""
        names = self.FIGURES
        rows: list[dict[str, Any]] = [
            {"metric": name, **getattr(self, name).to_dict()} for name in names
        ]
        return pd.DataFrame(rows)


def _grid(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(runs, steps, n_agents)`` estimates and ``(runs, steps)`` truth of a full table."""
    missing = [c for c in ("run", "step", "agent", "action", "truth") if c not in table.columns]
    if missing:
        raise InputError(
            f"estimation_metrics: the table lacks columns {missing}; pass the long table of "
            "play() or of the environment bridge."
        )
    runs, steps, agents = (table[c].nunique() for c in ("run", "step", "agent"))
    if runs * steps * agents != len(table) or not len(table):
        raise InputError(
            f"estimation_metrics: the table must hold every (run, step, agent) once; it has "
            f"{len(table)} rows for {runs} runs x {steps} steps x {agents} agents."
        )
    ordered = table.sort_values(["run", "step", "agent"])
    estimates = ordered["action"].to_numpy(dtype=np.float64).reshape(runs, steps, agents)
    truth = ordered["truth"].to_numpy(dtype=np.float64).reshape(runs, steps, agents)[..., 0]
    return estimates, truth


def estimation_metrics(
    table: pd.DataFrame, *, level: float = 0.95, n_resamples: int = 1000, seed: int = 0
) -> EstimationMetrics:
    """The diversity prediction theorem's terms and the coherent-drift statistics of an
    estimation long table (`play`'s or the LLM bridge's), with intervals over runs.

    Example:
        >>> from monoculture.environments import EstimationPolicy, play
        >>> result = play(DriftingEstimation(n_steps=5), EstimationPolicy(), runs=20)
        >>> m = estimation_metrics(result.table, n_resamples=200)
        >>> bool(m.coherence.ci_low <= m.coherence.value <= m.coherence.ci_high)
        True
    """
    estimates, truth = _grid(table)
    n_runs, n_steps, _ = estimates.shape
    terms = diversity_terms(estimates, truth)
    run_index, step_index = np.meshgrid(np.arange(n_runs), np.arange(n_steps), indexing="ij")
    steps = pd.DataFrame(
        {
            "run": np.sort(table["run"].unique())[run_index.ravel()],
            "step": np.sort(table["step"].unique())[step_index.ravel()],
            "truth": truth.ravel(),
            "collective": estimates.mean(axis=-1).ravel(),
            **{name: value.ravel() for name, value in terms.items()},
        }
    )
    per_run = {name: value.mean(axis=1) for name, value in terms.items()}
    errors = terms["collective_error"]  # (runs, steps)
    mean_diversity = per_run["diversity"]  # (runs,)

    def across(weights: np.ndarray) -> np.ndarray:
        total = weights.sum(axis=1, keepdims=True)
        mean = weights @ errors / total
        variance = (weights @ errors**2 - total * mean**2) / (total - 1)
        return np.asarray(np.sqrt(np.maximum(variance, 0).mean(axis=1)))

    def within(weights: np.ndarray) -> np.ndarray:
        return np.asarray(np.sqrt(weights @ mean_diversity / weights.sum(axis=1)))

    def ratio(weights: np.ndarray) -> np.ndarray:
        inside = within(weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(inside > 0, across(weights) / inside, np.nan))

    options: dict[str, Any] = {"level": level, "n_resamples": n_resamples, "seed": seed}
    if n_runs < 2:
        warnings.warn(
            "estimation_metrics: the spread across runs needs at least two runs; got "
            f"{n_runs}. NaN.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        nan = float("nan")
        method = "needs at least two runs"
        spread = Estimate(nan, nan, nan, n_runs, method)
        inside = Estimate(float(within(np.ones((1, 1)))[0]), nan, nan, n_runs, method)
        coherence = Estimate(nan, nan, nan, n_runs, method)
    else:
        spread = bootstrap_over_runs(across, n_runs, **options)
        inside = bootstrap_over_runs(within, n_runs, **options)
        if not inside.value > 0:
            warnings.warn(
                "estimation_metrics: the estimates never differ within a run, so the "
                "coherence ratio is undefined. NaN.",
                UndefinedMetricWarning,
                stacklevel=2,
            )
        coherence = bootstrap_over_runs(ratio, n_runs, **options)
    return EstimationMetrics(
        # Squared errors and diversity cannot be negative: their t intervals stop at 0.
        collective_sq_error=mean_interval(
            per_run["collective_sq_error"], level=level, bounds=(0.0, np.inf)
        ),
        mean_sq_error=mean_interval(per_run["mean_sq_error"], level=level, bounds=(0.0, np.inf)),
        diversity=mean_interval(per_run["diversity"], level=level, bounds=(0.0, np.inf)),
        across_run_spread=spread,
        within_run_spread=inside,
        coherence=coherence,
        steps=steps,
    )
