"""Scenario (c): sequential decisions and information cascades (Bikhchandani, Hirshleifer
& Welch 1992), vectorised over runs.

Agents decide one after another between two options, one of them right. Each gets a private
signal that is right with probability ``signal_accuracy``; with probability ``homogeneity``
the signal is its constitution's shared signal instead of its own (a shared model reads the
world the same way). With probability ``influence`` an agent sees its predecessors' choices
and follows the majority once it leads by ``threshold`` or more (the counting rule of the
rational cascade); otherwise it follows its signal. ``temperature`` flips a decision with
probability ``temperature / (1 + temperature) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CascadeConfig", "CascadeResult", "run_cascade"]


class CascadeConfig(BaseModel):
    """Knobs of the cascade scenario."""

    model_config = ConfigDict(extra="forbid")
    scenario: Literal["cascade"] = "cascade"
    n_agents: int = Field(100, ge=2, description="Agents deciding in sequence.")
    n_runs: int = Field(2000, ge=1, description="Independent runs (vectorised).")
    signal_accuracy: float = Field(0.7, gt=0.5, lt=1, description="Chance a signal is right.")
    homogeneity: float = Field(0.0, ge=0, le=1, description="Chance to use the shared signal.")
    n_constitutions: int = Field(1, ge=1, description="Distinct shared signals.")
    influence: float = Field(1.0, ge=0, le=1, description="Chance to see predecessors.")
    threshold: int = Field(2, ge=1, description="Lead that makes an agent follow the crowd.")
    temperature: float = Field(0.0, ge=0, description="Decision noise; 0 = deterministic.")
    seed: int = Field(0)


@dataclass(frozen=True)
class CascadeResult:
    """``steps``: share right and in a wrong cascade by position; ``runs``: per run."""

    config: CascadeConfig
    steps: pd.DataFrame
    runs: pd.DataFrame


def run_cascade(config: CascadeConfig) -> CascadeResult:
    """Run all runs at once, one vectorised step per agent position."""
    rng = np.random.default_rng(config.seed)
    runs, n = config.n_runs, config.n_agents
    constitution = np.arange(n) % config.n_constitutions
    shared = rng.random((runs, config.n_constitutions)) < config.signal_accuracy
    own = rng.random((runs, n)) < config.signal_accuracy
    use_shared = rng.random((runs, n)) < config.homogeneity
    signal = np.where(use_shared, shared[:, constitution], own)  # True = points to the truth
    looks = rng.random((runs, n)) < config.influence
    flip = rng.random((runs, n)) < config.temperature / (1.0 + config.temperature) / 2.0
    right = np.zeros((runs, n), dtype=bool)
    lead = np.zeros(runs, dtype=np.int64)  # (# chose right) - (# chose wrong) so far
    for i in range(n):
        follow_right = looks[:, i] & (lead >= config.threshold)
        follow_wrong = looks[:, i] & (lead <= -config.threshold)
        choice = np.where(follow_right, True, np.where(follow_wrong, False, signal[:, i]))
        choice ^= flip[:, i]
        right[:, i] = choice
        lead += np.where(choice, 1, -1)
    tail = right[:, -max(1, n // 5) :]
    wrong_cascade = ~tail.any(axis=1)
    right_cascade = tail.all(axis=1)
    steps = pd.DataFrame(
        {
            "position": np.arange(n),
            "share_right": right.mean(axis=0),
            "share_signal_right": signal.mean(axis=0),
        }
    )
    run_table = pd.DataFrame(
        {
            "run": np.arange(runs),
            "share_right": right.mean(axis=1),
            "majority_right": right.sum(axis=1) * 2 > n,
            "wrong_cascade": wrong_cascade,
            "right_cascade": right_cascade,
        }
    )
    return CascadeResult(config, steps, run_table)
