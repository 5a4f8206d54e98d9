"""Scenario (b): a shared resource harvested by a swarm, with feedback (in the spirit of
GovSim; Piatti et al. 2024).

A stock S (capacity 1) regrows logistically, ``S += growth * S * (1 - S)``, and loses the
swarm's harvest. Each agent reads the stock with an error made of its constitution's shared
error (an AR(1) process: the shared model drifts), its own fixed error and observation
noise, and harvests a fixed fraction of what it reads: ``greed * growth / 2 * S_read / n``
(greed 1 is the maximum-sustainable-yield rate). Above greed 1 the stock settles low and
little room is left: errors shared by a homogeneous swarm push every agent over the limit at
once, while individual errors average out. The run records when the stock collapses (falls
below ``collapse_level``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CommonsConfig", "CommonsResult", "run_commons"]


class CommonsConfig(BaseModel):
    """Knobs of the commons scenario."""

    model_config = ConfigDict(extra="forbid")
    scenario: Literal["commons"] = "commons"
    n_agents: int = Field(100, ge=2, description="Harvesting agents.")
    n_steps: int = Field(300, ge=1, description="Steps per run.")
    n_runs: int = Field(200, ge=1, description="Independent runs (vectorised).")
    growth: float = Field(0.3, gt=0, le=1, description="Logistic regrowth rate.")
    greed: float = Field(1.5, gt=0, description="Harvest rate relative to the MSY rate.")
    homogeneity: float = Field(0.5, ge=0, le=1, description="Weight of the shared error.")
    n_constitutions: int = Field(1, ge=1, description="Distinct shared models.")
    error_scale: float = Field(0.3, ge=0, description="Sd of systematic reading errors.")
    error_persistence: float = Field(0.95, ge=0, lt=1, description="AR(1) of shared errors.")
    observation_noise: float = Field(0.1, ge=0, description="Sd of per-step reading noise.")
    temperature: float = Field(0.0, ge=0, description="Noise on each harvest decision.")
    collapse_level: float = Field(0.05, gt=0, lt=1, description="Stock that counts as collapse.")
    seed: int = Field(0)


@dataclass(frozen=True)
class CommonsResult:
    """``steps``: mean stock and harvest by step; ``runs``: collapse step per run (NaN =
    never)."""

    config: CommonsConfig
    steps: pd.DataFrame
    runs: pd.DataFrame


def run_commons(config: CommonsConfig) -> CommonsResult:
    """Run all runs at once (arrays of runs x agents)."""
    rng = np.random.default_rng(config.seed)
    runs, n = config.n_runs, config.n_agents
    h = config.homogeneity
    constitution = np.arange(n) % config.n_constitutions
    own = np.sqrt(1 - h) * config.error_scale * rng.standard_normal((runs, n))
    shared = config.error_scale * rng.standard_normal((runs, config.n_constitutions))
    innovation = np.sqrt(1 - config.error_persistence**2) * config.error_scale
    stock = np.full(runs, 0.5)
    collapse = np.full(runs, np.nan)
    mean_stock, mean_harvest, disagreement = (np.empty(config.n_steps) for _ in range(3))
    for t in range(config.n_steps):
        shared = config.error_persistence * shared + innovation * rng.standard_normal(shared.shape)
        error = (
            np.sqrt(h) * shared[:, constitution]
            + own
            + config.observation_noise * rng.standard_normal((runs, n))
        )
        reading = np.clip(stock[:, None] * (1.0 + error), 0.0, None)
        quota = config.greed * config.growth / 2.0 * reading
        if config.temperature > 0:
            quota *= np.exp(config.temperature * rng.standard_normal((runs, n)))
        harvest = quota.mean(axis=1)  # n agents each take quota / n
        stock = np.clip(stock + config.growth * stock * (1.0 - stock) - harvest, 0.0, 1.0)
        newly = np.isnan(collapse) & (stock < config.collapse_level)
        collapse[newly] = t
        mean_stock[t], mean_harvest[t] = stock.mean(), harvest.mean()
        disagreement[t] = float(quota.std(axis=1).mean())
    steps = pd.DataFrame(
        {
            "step": np.arange(config.n_steps),
            "mean_stock": mean_stock,
            "mean_harvest": mean_harvest,
            "harvest_disagreement": disagreement,
        }
    )
    run_table = pd.DataFrame(
        {
            "run": np.arange(runs),
            "collapse_step": collapse,
            "collapsed": ~np.isnan(collapse),
            "final_stock": stock,
        }
    )
    return CommonsResult(config, steps, run_table)
