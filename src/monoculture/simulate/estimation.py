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
diversity (variance of outputs), the error coherence and the effective number of agents;
the diversity prediction theorem (collective squared error = mean squared error - diversity;
Page 2007) holds exactly at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

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


def _world_step(config: EstimationConfig, rng: np.random.Generator) -> float:
    if config.drift == "random_walk":
        return float(config.drift_scale * rng.standard_normal())
    if rng.random() < config.regime_probability:
        return float(config.regime_jump * rng.standard_normal())
    return 0.0


def run_estimation(config: EstimationConfig, *, record_outputs: bool = False) -> EstimationResult:
    """Run ``config.n_runs`` independent runs; see the module docstring for the model."""
    root = np.random.SeedSequence(config.seed)
    run_seeds = root.spawn(config.n_runs)
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
        run_rows.append(_run_summary(run, steps))
    steps_table = pd.concat(step_tables, ignore_index=True)
    return EstimationResult(
        config=config,
        steps=steps_table,
        runs=pd.DataFrame(run_rows),
        outputs=np.stack(outputs) if record_outputs else None,
    )


def _one_run(
    config: EstimationConfig,
    seed: np.random.SeedSequence,
    influence: object,
    record: bool,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    n = config.n_agents
    world_seed, agent_seed = seed.spawn(2)
    world_rng = np.random.default_rng(world_seed)
    slices = chunk_slices(n)
    rngs = chunk_generators(agent_seed, len(slices))
    h = config.homogeneity
    constitution = np.arange(n) % config.n_constitutions
    # Fixed per-agent pieces, drawn per chunk so the chunk streams stay independent of cores.
    individual = np.empty(n, dtype=np.float32)
    belief = np.empty(n, dtype=np.float32)
    for rng, part in zip(rngs, slices, strict=True):
        individual[part] = rng.standard_normal(part.stop - part.start, dtype=np.float32)
        belief[part] = rng.standard_normal(part.stop - part.start, dtype=np.float32)
    individual *= np.float32(np.sqrt(1.0 - h) * config.bias_scale)
    belief *= np.float32(config.observation_noise)
    shared = config.bias_scale * world_rng.standard_normal(config.n_constitutions)
    innovation = np.sqrt(1.0 - config.bias_persistence**2) * config.bias_scale
    theta = 0.0
    # Before the first step, "previous outputs" are the agents' initial private estimates.
    output = belief + individual + np.float32(np.sqrt(h)) * shared.astype(np.float32)[constitution]
    noise = np.empty(n, dtype=np.float32)
    seen = np.empty(n, dtype=np.float32) if config.observe_probability < 1 else None
    rate, sigma = np.float32(config.learning_rate), np.float32(config.observation_noise)
    w, tau = np.float32(config.influence), np.float32(config.temperature)
    previous_mean = float(output.mean(dtype=np.float64))
    columns: dict[str, np.ndarray] = {
        name: np.empty(config.n_steps)
        for name in (
            "theta",
            "collective",
            "collective_error",
            "mean_squared_error",
            "diversity",
            "coherence",
            "error_correlation",
            "effective_agents",
        )
    }
    recorded = np.empty((config.n_steps, n), dtype=np.float32) if record else None
    shift_shared = constitution if config.n_constitutions > 1 else None

    with chunk_runner(len(slices)) as run_chunks:
        for t in range(config.n_steps):
            theta += _world_step(config, world_rng)
            theta += config.feedback * (previous_mean - theta) if t else 0.0
            shared = config.bias_persistence * shared + innovation * world_rng.standard_normal(
                config.n_constitutions
            )
            shared_term = (np.sqrt(h) * shared).astype(np.float32)
            social = None
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
                part, rng = slices[k], rngs[k]
                eta = noise[part]
                rng.standard_normal(out=eta, dtype=np.float32)
                # belief += rate * seen * (theta + sigma * eta - belief)
                eta *= sigma
                eta += theta32
                eta -= belief[part]
                eta *= rate
                if seen is not None:
                    mask = seen[part]
                    rng.random(out=mask, dtype=np.float32)
                    eta *= mask < config.observe_probability
                belief[part] += eta
                y = output[part]
                if social is not None:
                    # x = (1 - w) p + w * social; p = belief + shared + individual
                    peers = social if np.ndim(social) == 0 else social[part]
                    np.add(belief[part], individual[part], out=y)
                    y += (
                        shared_term[shift_shared[part]]
                        if shift_shared is not None
                        else (shared_term[0])
                    )
                    y *= 1 - w
                    y += w * peers
                else:
                    np.add(belief[part], individual[part], out=y)
                    y += (
                        shared_term[shift_shared[part]]
                        if shift_shared is not None
                        else (shared_term[0])
                    )
                if tau > 0:
                    eta = noise[part]
                    rng.standard_normal(out=eta, dtype=np.float32)
                    eta *= tau
                    y += eta
                # Chunk mean and squared deviations (float64 sums), combined below with
                # Chan et al.'s parallel variance formula: stable even when diversity is tiny.
                size = part.stop - part.start
                chunk_mean = float(y.sum(dtype=np.float64)) / size
                spread = noise[part]
                np.subtract(y, np.float32(chunk_mean), out=spread)
                np.square(spread, out=spread)
                return size, chunk_mean, float(spread.sum(dtype=np.float64))

            parts = run_chunks(update)
            mean = sum(size * m for size, m, _ in parts) / n
            diversity = (sum(m2 + size * (m - mean) ** 2 for size, m, m2 in parts)) / n
            error = mean - theta
            mse = diversity + error**2
            coherence = error**2 / mse if mse > 0 else np.nan
            correlation = (n * coherence - 1.0) / (n - 1.0) if mse > 0 else np.nan
            columns["theta"][t] = theta
            columns["collective"][t] = mean
            columns["collective_error"][t] = error
            columns["mean_squared_error"][t] = mse
            columns["diversity"][t] = diversity
            columns["coherence"][t] = coherence
            columns["error_correlation"][t] = correlation
            columns["effective_agents"][t] = n / (1.0 + (n - 1.0) * correlation)
            previous_mean = mean
            if recorded is not None:
                recorded[t] = output
    steps = pd.DataFrame({"step": np.arange(config.n_steps), **columns})
    return steps, recorded


def _run_summary(run: int, steps: pd.DataFrame) -> dict[str, float]:
    last = steps.iloc[-1]
    half = steps.iloc[len(steps) // 2 :]
    return {
        "run": run,
        "final_collective_error": float(last["collective_error"]),
        "final_abs_error": float(abs(last["collective_error"])),
        "mean_abs_collective_error": float(half["collective_error"].abs().mean()),
        "mean_diversity": float(half["diversity"].mean()),
        "mean_error_correlation": float(half["error_correlation"].mean()),
        "mean_effective_agents": float(half["effective_agents"].mean()),
    }
