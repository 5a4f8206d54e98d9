"""Scenario (d): a swarm classifying a stream of items, exported as `Responses` per step.

Latent model (``shared_model="latent"``): agent a on item x has the margin

    m = mu_t + sqrt(h) * u[x, constitution(a)] + sqrt(1 - h) * v[x, a],   u, v ~ N(0, 1)

and is right when ``m + temperature * eps > 0`` (eps ~ N(0, 1); temperature 0 = argmax).
``mu_0 = Phi^-1(accuracy)``; with ``drift`` the stream's difficulty wanders (mu_t). Two
agents of one constitution then have latent error correlation ``h / (1 + temperature^2)``,
whose error consistency is known in closed form (`latent_error_consistency`). A wrong agent
picks the item's shared lure with probability ``lure_share``, else a random wrong option.

Beta model (``shared_model="beta"``): each (item, constitution) has a chance of being right
p ~ Beta with mean ``accuracy`` and intra-class correlation ``h``; agents are independent
given p. This is Ladha's correlated Condorcet setting: the majority of n voters is right
with the beta-binomial probability (`beta_binomial_majority`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from monoculture.metrics import effective_agents, plurality_accuracy
from monoculture.metrics._pairwise import pair_counts
from monoculture.responses import InputSummary, Responses

__all__ = [
    "ClassificationConfig",
    "ClassificationResult",
    "beta_binomial_majority",
    "latent_error_consistency",
    "run_classification",
]


class ClassificationConfig(BaseModel):
    """Knobs of the classification scenario."""

    model_config = ConfigDict(extra="forbid")
    scenario: Literal["classification"] = "classification"
    n_agents: int = Field(31, ge=2, description="Agents.")
    n_steps: int = Field(10, ge=1, description="Steps (batches of items).")
    items_per_step: int = Field(200, ge=1, description="Items per step.")
    n_runs: int = Field(1, ge=1, description="Independent runs.")
    n_options: int = Field(4, ge=2, description="Answer options per item.")
    accuracy: float = Field(0.7, gt=0, lt=1, description="Accuracy at temperature 0, step 0.")
    homogeneity: float = Field(0.5, ge=0, le=1, description="Shared share of the margin.")
    temperature: float = Field(0.0, ge=0, description="Decision noise; 0 = argmax.")
    n_constitutions: int = Field(1, ge=1, description="Distinct shared models.")
    shared_model: Literal["latent", "beta"] = Field("latent")
    drift_scale: float = Field(0.0, ge=0, description="Sd per step of the difficulty walk.")
    lure_share: float = Field(0.6, ge=0, le=1, description="Wrong answers on the shared lure.")
    seed: int = Field(0)


@dataclass(frozen=True)
class ClassificationResult:
    """``steps``: one row per (run, step); ``runs``: one per run; ``responses``: for each
    run, one `Responses` per step (items of that step)."""

    config: ClassificationConfig
    steps: pd.DataFrame
    runs: pd.DataFrame
    responses: list[list[Responses]]


def latent_error_consistency(accuracy: float, homogeneity: float, temperature: float) -> float:
    """Population error consistency of two agents of one constitution in the latent model.

    Both are wrong when two standard normals with correlation ``rho = h / (1 + T^2)`` fall
    below ``-t``, ``t = Phi^-1(accuracy) / sqrt(1 + T^2)``; with equal accuracies, kappa equals
    the phi correlation ``(P(both wrong) - q^2) / (q (1 - q))``.
    """
    scale = np.sqrt(1.0 + temperature**2)
    threshold = -stats.norm.ppf(accuracy) / scale
    rho = homogeneity / scale**2
    q = stats.norm.cdf(threshold)
    both = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf(
        [threshold, threshold]
    )
    return float((both - q**2) / (q * (1 - q)))


def beta_binomial_majority(n_voters: int, accuracy: float, correlation: float) -> float:
    """P(more than half of n right) + half of P(tie), for exchangeable voters whose chance
    of being right is Beta with this mean and intra-class correlation (Ladha 1992)."""
    concentration = (1.0 - correlation) / correlation
    a, b = accuracy * concentration, (1.0 - accuracy) * concentration
    k = np.arange(n_voters + 1)
    pmf = stats.betabinom.pmf(k, n_voters, a, b)
    return float(
        (pmf * np.where(2 * k > n_voters, 1.0, np.where(2 * k == n_voters, 0.5, 0.0))).sum()
    )


def _correct(config: ClassificationConfig, mu: float, rng: np.random.Generator) -> np.ndarray:
    n_items, n_agents = config.items_per_step, config.n_agents
    constitution = np.arange(n_agents) % config.n_constitutions
    h = config.homogeneity
    if config.shared_model == "beta":
        p_mean = stats.norm.cdf(mu)
        if h <= 0:
            chance = np.full((n_items, config.n_constitutions), p_mean)
        else:
            concentration = (1.0 - h) / h if h < 1 else 1e-9
            chance = rng.beta(
                p_mean * concentration,
                (1 - p_mean) * concentration,
                (n_items, config.n_constitutions),
            )
        return rng.random((n_items, n_agents)) < chance[:, constitution]
    shared = rng.standard_normal((n_items, config.n_constitutions))[:, constitution]
    own = rng.standard_normal((n_items, n_agents))
    margin = mu + np.sqrt(h) * shared + np.sqrt(1.0 - h) * own
    if config.temperature > 0:
        margin = margin + config.temperature * rng.standard_normal((n_items, n_agents))
    return np.asarray(margin > 0)


def run_classification(config: ClassificationConfig) -> ClassificationResult:
    """Run the scenario; see the module docstring."""
    rows, run_rows, all_responses = [], [], []
    labels = [chr(65 + k) for k in range(config.n_options)]
    agents = [f"sim-{a:04d}" for a in range(config.n_agents)]
    constitution = [
        f"constitution-{c}" for c in np.arange(config.n_agents) % config.n_constitutions
    ]
    for run, seed in enumerate(np.random.SeedSequence(config.seed).spawn(config.n_runs)):
        rng = np.random.default_rng(seed)
        mu = float(stats.norm.ppf(config.accuracy))
        per_step = []
        for t in range(config.n_steps):
            mu += config.drift_scale * rng.standard_normal() if t else 0.0
            right = _correct(config, mu, rng)
            n_items = config.items_per_step
            gold = rng.integers(0, config.n_options, n_items)
            lure = (gold + rng.integers(1, config.n_options, n_items)) % config.n_options
            other = (gold[:, None] + rng.integers(1, config.n_options, right.shape)) % (
                config.n_options
            )
            wrong_answer = np.where(
                rng.random(right.shape) < config.lure_share, lure[:, None], other
            )
            answers = np.where(right, gold[:, None], wrong_answer)
            responses = Responses.from_arrays(
                answers=answers,
                gold=gold,
                agents=agents,
                labels=labels,
                items=[f"r{run}-s{t}-i{x}" for x in range(n_items)],
                agent_attrs=pd.DataFrame({"constitution": constitution}),
                item_attrs=pd.DataFrame({"step": np.full(n_items, t)}),
                input_summary=InputSummary(
                    f"<synthetic classification run={run} step={t}>",
                    right.size,
                    right.size,
                    {},
                    ("synthetic: monoculture.simulate classification scenario",),
                ),
            )
            per_step.append(responses)
            counts = pair_counts(responses)
            kappa = counts.kappa[np.triu_indices(config.n_agents, k=1)]
            rows.append(
                {
                    "run": run,
                    "step": t,
                    "difficulty_margin": mu,
                    "mean_accuracy": float(right.mean()),
                    "plurality_accuracy": plurality_accuracy(responses),
                    "error_consistency": float(np.nanmean(kappa))
                    if np.isfinite(kappa).any()
                    else np.nan,
                    "effective_agents": effective_agents(responses),
                    "systemic_failure_rate": float((~right).all(axis=1).mean()),
                }
            )
        all_responses.append(per_step)
        steps = pd.DataFrame([r for r in rows if r["run"] == run])
        run_rows.append(
            {
                "run": run,
                "mean_accuracy": float(steps["mean_accuracy"].mean()),
                "plurality_accuracy": float(steps["plurality_accuracy"].mean()),
                "plurality_error": float(1 - steps["plurality_accuracy"].mean()),
                "mean_error_consistency": float(steps["error_consistency"].mean()),
                "mean_effective_agents": float(steps["effective_agents"].mean()),
                "systemic_failure_rate": float(steps["systemic_failure_rate"].mean()),
            }
        )
    return ClassificationResult(config, pd.DataFrame(rows), pd.DataFrame(run_rows), all_responses)
