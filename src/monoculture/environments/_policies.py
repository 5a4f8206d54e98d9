"""Parametric agents (the simulator the LLM swarms are compared against) and their fit to
LLM agents' one-step behaviour.

Commons: ``request = round(fraction × sustainable × exp(sigma × noise))`` with
``noise = sqrt(h) × Z[run, step, constitution] + sqrt(1 − h) × E[run, step, agent]``: the
shared part moves every agent of a constitution together, so ``homogeneity`` h is the knob
between independent and lock-step agents.

Estimation: ``estimate = (1 − w) × observation + w × peer_mean + bias + noise × eta`` with
``bias = bias_scale × (sqrt(h) × B[run, constitution] + sqrt(1 − h) × E[run, agent])`` fixed
for a run (a shared systematic error: coherent drift) and ``eta`` fresh each step; without
peers' estimates (the first step, or no peers) ``peer_mean`` is the agent's observation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monoculture.errors import InputError

__all__ = ["CommonsPolicy", "EstimationPolicy", "fit_commons_policy", "fit_estimation_policy"]


def _constitution_index(constitutions: Sequence[int] | None, n_agents: int) -> np.ndarray:
    if constitutions is None:
        return np.zeros(n_agents, dtype=np.int64)
    index = np.asarray(constitutions, dtype=np.int64)
    if index.shape != (n_agents,) or (index < 0).any():
        raise InputError(
            f"constitutions must give one non-negative index per agent ({n_agents}); got "
            f"{list(constitutions)}."
        )
    return index


def _check_unit(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise InputError(f"{name} must lie in [0, 1]; got {value}.")


@dataclass(frozen=True)
class CommonsPolicy:
    """Fishers asking for a multiple of the sustainable harvest (module docstring).

    Attributes:
        fraction: the median request as a multiple of the sustainable harvest (1: exactly
            sustainable; 2: twice it, which empties a full lake in one month).
        sigma: sd of the log-request noise (0: deterministic).
        homogeneity: share h of the noise's variance shared within a constitution.
        constitutions: the constitution of each agent (all one when None).
        max_request: requests are clipped to ``[0, max_request]``.

    Example:
        >>> from monoculture.environments import Commons, play
        >>> play(Commons(), CommonsPolicy(), runs=2).table["action"].iloc[0]
        np.float64(10.0)
    """

    fraction: float = 1.0
    sigma: float = 0.0
    homogeneity: float = 0.5
    constitutions: tuple[int, ...] | None = None
    max_request: int = 100

    def __post_init__(self) -> None:
        if not self.fraction >= 0 or not self.sigma >= 0:
            raise InputError(
                f"CommonsPolicy: fraction and sigma must be >= 0; got {self.fraction}, "
                f"{self.sigma}."
            )
        _check_unit("CommonsPolicy: homogeneity", self.homogeneity)

    def reset(self, runs: int, n_agents: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"constitution": _constitution_index(self.constitutions, n_agents)}

    def act(
        self,
        observation: Mapping[str, np.ndarray],
        memory: dict[str, np.ndarray],
        rng: np.random.Generator,
    ) -> np.ndarray:
        sustainable = np.asarray(observation["sustainable"], dtype=np.float64)
        runs, n_agents = sustainable.shape
        constitution = memory["constitution"]
        shared = rng.standard_normal((runs, int(constitution.max()) + 1))[:, constitution]
        own = rng.standard_normal((runs, n_agents))
        h = self.homogeneity
        noise = np.sqrt(h) * shared + np.sqrt(1 - h) * own
        request = np.rint(self.fraction * sustainable * np.exp(self.sigma * noise))
        return np.asarray(np.clip(request, 0, self.max_request))


@dataclass(frozen=True)
class EstimationPolicy:
    """Estimators averaging their observation with their peers' previous estimates, with
    a bias shared within a constitution and one of their own (module docstring).

    Attributes:
        peer_weight: w, the weight on the peers' previous estimates.
        bias_scale: sd of an agent's systematic error (fixed for a run).
        homogeneity: share h of the bias variance shared within a constitution.
        noise: sd of the fresh per-step noise.
        constitutions: the constitution of each agent (all one when None).
    """

    peer_weight: float = 0.3
    bias_scale: float = 2.0
    homogeneity: float = 0.5
    noise: float = 0.0
    constitutions: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        _check_unit("EstimationPolicy: peer_weight", self.peer_weight)
        _check_unit("EstimationPolicy: homogeneity", self.homogeneity)
        if not self.bias_scale >= 0 or not self.noise >= 0:
            raise InputError(
                f"EstimationPolicy: bias_scale and noise must be >= 0; got {self.bias_scale}, "
                f"{self.noise}."
            )

    def reset(self, runs: int, n_agents: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        constitution = _constitution_index(self.constitutions, n_agents)
        shared = rng.standard_normal((runs, int(constitution.max()) + 1))[:, constitution]
        own = rng.standard_normal((runs, n_agents))
        h = self.homogeneity
        bias = self.bias_scale * (np.sqrt(h) * shared + np.sqrt(1 - h) * own)
        return {"bias": bias}

    def act(
        self,
        observation: Mapping[str, np.ndarray],
        memory: dict[str, np.ndarray],
        rng: np.random.Generator,
    ) -> np.ndarray:
        seen = np.asarray(observation["observation"], dtype=np.float64)
        peers = np.asarray(observation["peer_mean"], dtype=np.float64)
        peers = np.where(np.isfinite(peers), peers, seen)
        fresh = rng.standard_normal(seen.shape)
        w = self.peer_weight
        return np.asarray((1 - w) * seen + w * peers + memory["bias"] + self.noise * fresh)


def _require(table: pd.DataFrame, columns: Sequence[str], who: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"{who}: the table lacks columns {missing}; pass an environment long table "
            "(play() or the LLM bridge)."
        )
    rows = table[table["valid"].astype(bool)] if "valid" in table.columns else table
    return rows


def _shared_share(values: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of ``values`` shared within ``groups`` (one-way ANOVA
    intraclass correlation, clipped to [0, 1]); NaN when it cannot be told."""
    frame = pd.DataFrame({"v": values, "g": groups})
    within = frame.groupby("g")["v"].var(ddof=1).dropna()
    total = float(np.var(values, ddof=1)) if len(values) > 1 else float("nan")
    if not len(within) or not total > 0:
        return float("nan")
    return float(np.clip(1 - within.mean() / total, 0.0, 1.0))


def fit_commons_policy(table: pd.DataFrame) -> CommonsPolicy:
    """A `CommonsPolicy` fitted to agents' one-step behaviour: rows (run, step, agent) with
    the ``sustainable`` harvest they were shown and the ``action`` they took (a commons long
    table; invalid answers are left out, as are steps whose sustainable harvest is 0).

    ``log(max(action, 0.5) / sustainable)`` (a request of 0 counts as 0.5, where rounding
    turns to 0) gives ``fraction`` (the exponent of its mean), ``sigma`` (its sd) and
    ``homogeneity`` (the share of its variance shared within a (run, step)).
    """
    rows = _require(table, ("run", "step", "agent", "action", "sustainable"), "fit_commons_policy")
    rows = rows[rows["sustainable"] > 0]
    if len(rows) < 2:
        raise InputError(
            "fit_commons_policy: needs at least two valid rows with a positive sustainable "
            f"harvest; got {len(rows)}."
        )
    ratio = np.log(np.maximum(rows["action"].to_numpy(np.float64), 0.5) / rows["sustainable"])
    groups = (rows["run"].astype(str) + "/" + rows["step"].astype(str)).to_numpy()
    share = _shared_share(ratio, groups)
    return CommonsPolicy(
        fraction=float(np.exp(ratio.mean())),
        sigma=float(ratio.std(ddof=1)),
        homogeneity=0.0 if not np.isfinite(share) else share,
    )


def fit_estimation_policy(table: pd.DataFrame) -> EstimationPolicy:
    """An `EstimationPolicy` fitted to agents' one-step behaviour: rows with the
    ``observation`` and ``peer_mean`` they were shown and their ``action`` (an estimation
    long table; invalid answers left out).

    ``peer_weight`` is the least-squares slope of ``action − observation`` on ``peer_mean −
    observation`` within each (run, agent) (rows with peers' estimates), clipped to [0, 1];
    the residual splits by method of
    moments into a per-(run, agent) bias (its mean over steps) and fresh noise (the spread
    around it); ``homogeneity`` is the share of the bias variance shared within a run.
    """
    rows = _require(
        table,
        ("run", "step", "agent", "action", "observation", "peer_mean"),
        "fit_estimation_policy",
    )
    if len(rows) < 4:
        raise InputError(f"fit_estimation_policy: needs at least four valid rows; got {len(rows)}.")
    seen = rows["observation"].to_numpy(np.float64)
    peers = rows["peer_mean"].to_numpy(np.float64)
    has = np.isfinite(peers)
    peers = np.where(has, peers, seen)
    target = rows["action"].to_numpy(np.float64) - seen
    lever = peers - seen
    # The slope within each (run, agent): an agent's fixed bias, which its peers may share,
    # would otherwise pass for weight on them.
    keys = rows["run"].astype(str).to_numpy() + "/" + rows["agent"].astype(str).to_numpy()
    frame = pd.DataFrame({"key": keys[has], "x": lever[has], "y": target[has]})
    centred = frame[["x", "y"]] - frame.groupby("key")[["x", "y"]].transform("mean")
    denominator = float((centred["x"] ** 2).sum())
    weight = 0.0
    if denominator > 0:
        weight = float(np.clip((centred["x"] * centred["y"]).sum() / denominator, 0, 1))
    residual = target - weight * lever
    frame = pd.DataFrame(
        {"run": rows["run"].to_numpy(), "agent": rows["agent"].to_numpy(), "r": residual}
    )
    per_agent = frame.groupby(["run", "agent"])["r"]
    noise_var = float(per_agent.var(ddof=1).mean()) if per_agent.size().max() > 1 else 0.0
    noise_var = 0.0 if not np.isfinite(noise_var) else noise_var
    steps = float(per_agent.size().mean())
    bias = per_agent.mean()
    bias_var = max(float(np.var(bias.to_numpy(), ddof=1)) - noise_var / steps, 0.0)
    run_means = bias.groupby(level="run").mean()
    agents = float(bias.groupby(level="run").size().mean())
    # Var(run mean of biases) = h s2 + (1 - h) s2 / n + noise / (n T), solved for h.
    shared_var = float(np.var(run_means.to_numpy(), ddof=1)) if len(run_means) > 1 else 0.0
    shared_var -= noise_var / (agents * steps)
    homogeneity = 0.0
    if bias_var > 0 and agents > 1:
        homogeneity = float(np.clip((shared_var / bias_var - 1 / agents) / (1 - 1 / agents), 0, 1))
    return EstimationPolicy(
        peer_weight=weight,
        bias_scale=float(np.sqrt(bias_var)),
        homogeneity=homogeneity,
        noise=float(np.sqrt(noise_var)),
    )
