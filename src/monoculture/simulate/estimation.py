"""Scenario (a): a swarm estimating a drifting quantity; the base model of the simulator.

Each step, agent i outputs ``y_i = x_i + temperature * noise`` with

    x_i = (1 - influence) * p_i + influence * (W y_prev)_i            peers' last outputs
    p_i = belief_i + sqrt(h) * B_c(i) + sqrt(1 - h) * E_i              shared + individual error
    belief_i <- belief_i + rate * seen_i * (theta + obs_noise * eta_i - belief_i)

where ``theta`` is the world state (a random walk or regime shifts, optionally pulled by the
swarm's own collective output: feedback), ``B_c`` is the systematic error of constitution c
(an AR(1) process, the shared "model"), ``E_i`` the agent's own fixed error, ``h`` the
homogeneity and ``seen_i`` whether the agent observed the world this step (partial
observability). The collective decision is the mean output.

Per step the run records the collective error, the mean squared individual error, the
diversity (variance of outputs), the error coherence, ``pairwise_error_correlation`` (the
mean Pearson correlation between two agents' errors that this decomposition implies,
``(n coherence - 1) / (n - 1)``) and the effective number of agents;
the diversity prediction theorem (collective squared error = mean squared error - diversity;
Page 2007) holds exactly at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from monoculture.metrics._arrays import kish_effective_agents
from monoculture.simulate._parallel import chunk_generators, chunk_runner, chunk_slices
from monoculture.simulate.network import NetworkKind, build_graph, influence_matrix

__all__ = ["EstimationConfig", "EstimationResult", "run_estimation"]


class EstimationConfig(BaseModel):
    """Knobs of the estimation scenario (every field has a default)."""

    model_config = ConfigDict(extra="forbid")
    scenario: Literal["estimation"] = "estimation"
    n_agents: int = Field(1000, ge=2, description="Agents in the swarm.")
    n_steps: int = Field(200, ge=1, description="Steps per run.")
    n_runs: int = Field(1, ge=1, description="Independent runs (for variance across runs).")
    homogeneity: float = Field(0.5, ge=0, le=1, description="Weight h of the shared error.")
    temperature: float = Field(0.0, ge=0, description="Output noise; 0 = deterministic.")
    n_constitutions: int = Field(1, ge=1, description="Distinct shared models/constitutions.")
    network: NetworkKind = Field("none", description="Who sees whose previous output.")
    degree: int = Field(6, ge=2, description="Mean degree (small_world, scale_free).")
    rewire: float = Field(0.1, ge=0, le=1, description="Rewiring probability (small_world).")
    influence: float = Field(0.0, ge=0, le=1, description="Weight on peers' last outputs.")
    drift: Literal["random_walk", "regime_shift"] = Field("random_walk")
    drift_scale: float = Field(0.05, ge=0, description="Sd of the world's step (random walk).")
    regime_probability: float = Field(0.01, ge=0, le=1, description="Chance of a shift/step.")
    regime_jump: float = Field(2.0, ge=0, description="Sd of a regime shift.")
    observation_noise: float = Field(1.0, ge=0, description="Sd of private observations.")
    observe_probability: float = Field(1.0, ge=0, le=1, description="Chance to observe/step.")
    informed_share: float = Field(
        1.0, ge=0, le=1, description="Share of agents that ever observe the world."
    )
    detection_tolerance: float = Field(
        0.25, gt=0, description="Collective error that counts as having caught up."
    )
    learning_rate: float = Field(0.3, gt=0, le=1, description="Belief update rate.")
    bias_scale: float = Field(0.5, ge=0, description="Sd of systematic errors.")
    bias_persistence: float = Field(0.99, ge=0, lt=1, description="AR(1) of shared errors.")
    feedback: float = Field(0.0, ge=0, le=1, description="Pull of outputs on the world.")
    seed: int = Field(0, description="Seed; runs are bit-for-bit reproducible.")


@dataclass(frozen=True)
class EstimationResult:
    """``steps``: one row per (run, step); ``runs``: one row per run; ``outputs``: the
    agents' outputs ``(n_runs, n_steps, n_agents)`` when recorded (small swarms)."""

    config: EstimationConfig
    steps: pd.DataFrame
    runs: pd.DataFrame
    outputs: np.ndarray | None = None


def run_estimation(config: EstimationConfig, *, record_outputs: bool = False) -> EstimationResult:
    """Run ``config.n_runs`` independent runs; see the module docstring for the model.

    Without peer influence, feedback or partial observation the agents never interact
    within a step, and a faster path runs each chunk of agents through all steps at once;
    both paths are seeded and reproducible, but they draw their random numbers in a
    different order, so switching a knob on changes the draws as well.
    """
    run_seeds = np.random.SeedSequence(config.seed).spawn(config.n_runs)
    step_tables, run_rows, outputs = [], [], []
    influence = None
    if config.network not in ("none", "complete") and config.influence > 0:
        graph = build_graph(
            config.network,
            config.n_agents,
            degree=config.degree,
            rewire=config.rewire,
            seed=config.seed,
        )
        influence = influence_matrix(graph).astype(np.float32)
    for run, seed in enumerate(run_seeds):
        steps, recorded = _one_run(config, seed, influence, record_outputs)
        steps.insert(0, "run", run)
        step_tables.append(steps)
        if recorded is not None:
            outputs.append(recorded)
        run_rows.append(_run_summary(run, steps, config.detection_tolerance))
    return EstimationResult(
        config=config,
        steps=pd.concat(step_tables, ignore_index=True),
        runs=pd.DataFrame(run_rows),
        outputs=np.stack(outputs) if record_outputs else None,
    )


def _world_paths(
    config: EstimationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World jumps ``(n_steps,)`` (0 where none), shared errors ``(n_steps, C)`` and the
    initial shared errors ``(C,)``: everything that does not depend on the agents."""
    steps, c = config.n_steps, config.n_constitutions
    initial = config.bias_scale * rng.standard_normal(c)
    if config.drift == "random_walk":
        jumps = config.drift_scale * rng.standard_normal(steps)
    else:
        shifts = rng.random(steps) < config.regime_probability
        jumps = np.where(shifts, config.regime_jump * rng.standard_normal(steps), 0.0)
    innovation = np.sqrt(1.0 - config.bias_persistence**2) * config.bias_scale
    shocks = innovation * rng.standard_normal((steps, c))
    shared = np.empty((steps, c))
    level = initial
    for t in range(steps):  # an AR(1) over C values per step: cheap
        level = config.bias_persistence * level + shocks[t]
        shared[t] = level
    return jumps, shared, initial


@dataclass
class _Swarm:
    """Per-run agent state, split into chunks with their own random streams."""

    slices: list[slice]
    observe: list[np.random.Generator]  # observation noise
    decide: list[np.random.Generator]  # temperature noise
    look: list[np.random.Generator]  # who observes this step
    individual: np.ndarray
    belief: np.ndarray
    constitution: np.ndarray
    informed: np.ndarray


def _swarm(config: EstimationConfig, seed: np.random.SeedSequence, min_chunks: int) -> _Swarm:
    n = config.n_agents
    slices = chunk_slices(n, min_chunks=min_chunks)
    streams = [chunk_generators(child, 3) for child in seed.spawn(len(slices))]
    individual = np.empty(n, dtype=np.float32)
    belief = np.empty(n, dtype=np.float32)
    for (observe, _, _), part in zip(streams, slices, strict=True):
        individual[part] = observe.standard_normal(part.stop - part.start, dtype=np.float32)
        belief[part] = observe.standard_normal(part.stop - part.start, dtype=np.float32)
    individual *= np.float32(np.sqrt(1.0 - config.homogeneity) * config.bias_scale)
    belief *= np.float32(config.observation_noise)
    informed = np.arange(n) < round(config.informed_share * n)
    return _Swarm(
        slices,
        [s[0] for s in streams],
        [s[1] for s in streams],
        [s[2] for s in streams],
        individual,
        belief,
        np.arange(n) % config.n_constitutions,
        informed,
    )


def _one_run(
    config: EstimationConfig,
    seed: np.random.SeedSequence,
    influence: Any,
    record: bool,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    world_seed, agent_seed = seed.spawn(2)
    jumps, shared, initial_shared = _world_paths(config, np.random.default_rng(world_seed))
    uncoupled = (
        config.influence == 0
        and config.feedback == 0
        and config.observe_probability == 1
        and config.informed_share == 1
    )
    if uncoupled:
        swarm = _swarm(config, agent_seed, min_chunks=2 if config.n_agents >= 8192 else 1)
        theta, mean, diversity, recorded = _run_uncoupled(config, swarm, jumps, shared, record)
    else:
        swarm = _swarm(config, agent_seed, min_chunks=1)
        theta, mean, diversity, recorded = _run_coupled(
            config, swarm, jumps, shared, initial_shared, influence, record
        )
    n = config.n_agents
    error = mean - theta
    mse = diversity + error**2
    with np.errstate(invalid="ignore", divide="ignore"):
        coherence = np.where(mse > 0, error**2 / mse, np.nan)
        correlation = (n * coherence - 1.0) / (n - 1.0)
        effective = kish_effective_agents(n, correlation)  # n, not more, when <= 0
    steps = pd.DataFrame(
        {
            "step": np.arange(config.n_steps),
            "theta": theta,
            "shift": jumps if (config.drift == "regime_shift") else np.zeros(config.n_steps),
            "collective": mean,
            "collective_error": error,
            "mean_squared_error": mse,
            "diversity": diversity,
            "coherence": coherence,
            "pairwise_error_correlation": correlation,
            "effective_agents": effective,
        }
    )
    return steps, recorded


def _combine(
    parts: list[tuple[int, np.ndarray, np.ndarray]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Swarm mean and variance from chunk (size, means, squared deviations), per step
    (Chan et al.'s parallel formula: stable even when the diversity is tiny)."""
    mean = sum(size * m for size, m, _ in parts) / n
    diversity = sum(m2 + size * (m - mean) ** 2 for size, m, m2 in parts) / n
    return np.asarray(mean), np.asarray(diversity)


def _run_uncoupled(
    config: EstimationConfig,
    swarm: _Swarm,
    jumps: np.ndarray,
    shared: np.ndarray,
    record: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """No peer influence, no feedback, full observation: the chunks never interact, so each
    runs every step in one thread, a block of steps per numpy call; the belief recursion
    over a block runs on contiguous rows."""
    theta = np.cumsum(jumps)
    shared_term = (np.sqrt(config.homogeneity) * shared).astype(np.float32)
    rate = config.learning_rate
    n, steps = config.n_agents, config.n_steps
    recorded = np.empty((steps, n), dtype=np.float32) if record else None
    theta32 = theta.astype(np.float32)

    def chunk(k: int) -> tuple[int, np.ndarray, np.ndarray]:
        part, observe, decide = swarm.slices[k], swarm.observe[k], swarm.decide[k]
        size = part.stop - part.start
        block = max(1, (1 << 16) // size)  # rows per block: ~256 KB, stays in cache
        belief = swarm.belief[part].copy()
        offset = swarm.individual[part]
        own = swarm.constitution[part]
        means, spreads = np.empty(steps), np.empty(steps)
        scratch = np.empty((block, size), dtype=np.float32)
        carry = np.empty(size, dtype=np.float32)
        for start in range(0, steps, block):
            rows = slice(start, min(start + block, steps))
            count = rows.stop - rows.start
            # y_t = rate * (theta_t + sigma * eta_t), then y_t += (1 - rate) * y_{t-1}: the
            # belief recursion, two numpy passes per step on contiguous rows (BLAS axpy
            # would be one, but OpenBLAS's own threads fight ours).
            y = observe.standard_normal((count, size), dtype=np.float32)
            y *= np.float32(rate * config.observation_noise)
            y += (rate * theta32[rows])[:, None]
            previous = belief
            for r in range(count):
                np.multiply(previous, np.float32(1.0 - rate), out=carry)
                y[r] += carry
                previous = y[r]
            belief = previous.copy()
            y += offset
            y += (
                shared_term[rows][:, own] if config.n_constitutions > 1 else (shared_term[rows, :1])
            )
            if config.temperature > 0:
                y += np.float32(config.temperature) * decide.standard_normal(
                    (count, size), dtype=np.float32
                )
            row_means = y.sum(axis=1, dtype=np.float64) / size
            centred = scratch[:count]
            np.subtract(y, row_means[:, None].astype(np.float32), out=centred)
            np.square(centred, out=centred)
            means[rows] = row_means
            spreads[rows] = centred.sum(axis=1, dtype=np.float64)
            if recorded is not None:
                recorded[rows, part] = y
        swarm.belief[part] = belief
        return size, means, spreads

    with chunk_runner(len(swarm.slices)) as run_chunks:
        parts = run_chunks(chunk)
    mean, diversity = _combine(parts, n)
    return theta, mean, diversity, recorded


def _run_coupled(
    config: EstimationConfig,
    swarm: _Swarm,
    jumps: np.ndarray,
    shared: np.ndarray,
    initial_shared: np.ndarray,
    influence: Any,
    record: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Peer influence, feedback or partial observation: step by step, chunks in threads."""
    n, steps = config.n_agents, config.n_steps
    h = config.homogeneity
    belief, individual, constitution = swarm.belief, swarm.individual, swarm.constitution
    shared_terms = (np.sqrt(h) * shared).astype(np.float32)
    # Before the first step, "previous outputs" are the agents' initial private estimates.
    output = (
        belief
        + individual
        + np.float32(np.sqrt(h)) * initial_shared.astype(np.float32)[constitution]
    )
    noise = np.empty(n, dtype=np.float32)
    seen = np.empty(n, dtype=np.float32)
    rate, sigma = np.float32(config.learning_rate), np.float32(config.observation_noise)
    w, tau = np.float32(config.influence), np.float32(config.temperature)
    partial = config.observe_probability < 1 or config.informed_share < 1
    previous_mean = float(output.mean(dtype=np.float64))
    theta_path, means, diversities = np.empty(steps), np.empty(steps), np.empty(steps)
    recorded = np.empty((steps, n), dtype=np.float32) if record else None
    theta = 0.0
    with chunk_runner(len(swarm.slices)) as run_chunks:
        for t in range(steps):
            theta += jumps[t]
            if t:
                theta += config.feedback * (previous_mean - theta)
            shared_term = shared_terms[t]
            social: Any = None
            if w > 0 and config.network == "complete":
                social = np.float32(previous_mean)
            elif w > 0 and influence is not None:
                social = influence @ output
            theta32 = np.float32(theta)

            def update(
                k: int,
                social: Any = social,
                theta32: np.float32 = theta32,
                shared_term: np.ndarray = shared_term,
            ) -> tuple[int, float, float]:
                part, observe = swarm.slices[k], swarm.observe[k]
                eta = noise[part]
                observe.standard_normal(out=eta, dtype=np.float32)
                # belief += rate * seen * (theta + sigma * eta - belief)
                eta *= sigma
                eta += theta32
                eta -= belief[part]
                eta *= rate
                if partial:
                    mask = seen[part]
                    swarm.look[k].random(out=mask, dtype=np.float32)
                    eta *= (mask < config.observe_probability) & swarm.informed[part]
                belief[part] += eta
                y = output[part]
                np.add(belief[part], individual[part], out=y)
                y += shared_term[constitution[part]]
                if social is not None:
                    # x = (1 - w) p + w * (peers' previous outputs)
                    y *= 1 - w
                    y += w * (social if np.ndim(social) == 0 else social[part])
                if tau > 0:
                    eta = noise[part]
                    swarm.decide[k].standard_normal(out=eta, dtype=np.float32)
                    eta *= tau
                    y += eta
                size = part.stop - part.start
                chunk_mean = float(y.sum(dtype=np.float64)) / size
                spread = noise[part]
                np.subtract(y, np.float32(chunk_mean), out=spread)
                np.square(spread, out=spread)
                return size, chunk_mean, float(spread.sum(dtype=np.float64))

            parts = run_chunks(update)
            mean, diversity = _combine(
                [(size, np.asarray(m), np.asarray(m2)) for size, m, m2 in parts], n
            )
            theta_path[t], means[t], diversities[t] = theta, float(mean), float(diversity)
            previous_mean = float(mean)
            if recorded is not None:
                recorded[t] = output
    return theta_path, means, diversities, recorded


def _detection_time(steps: pd.DataFrame, tolerance: float) -> float:
    """Mean number of steps after a regime shift until the collective error is back within
    ``tolerance`` (NaN without shifts; a shift never caught counts to the end of the run)."""
    shift_steps = np.flatnonzero(steps["shift"].to_numpy() != 0)
    if len(shift_steps) == 0:
        return float("nan")
    caught = np.abs(steps["collective_error"].to_numpy()) < tolerance
    delays = []
    for t in shift_steps:
        later = np.flatnonzero(caught[t:])
        delays.append(later[0] if len(later) else len(caught) - t)
    return float(np.mean(delays))


def _run_summary(run: int, steps: pd.DataFrame, tolerance: float) -> dict[str, float]:
    last = steps.iloc[-1]
    half = steps.iloc[len(steps) // 2 :]
    return {
        "run": run,
        "final_collective_error": float(last["collective_error"]),
        "final_abs_error": float(abs(last["collective_error"])),
        "mean_abs_collective_error": float(half["collective_error"].abs().mean()),
        "mean_diversity": float(half["diversity"].mean()),
        "mean_pairwise_error_correlation": float(half["pairwise_error_correlation"].mean()),
        "mean_effective_agents": float(half["effective_agents"].mean()),
        "drift_detection_time": _detection_time(steps, tolerance),
    }
