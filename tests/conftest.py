"""Shared fixtures: small generated swarms (with gaps, answers and probabilities)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture import Responses

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MMLU = SHARED_DATA / "mmlu-pro"

# A small long table used by the reader tests: 3 items x 3 agents with one missing cell, one
# unparsed answer, an item attribute (category), an agent attribute (family) and a per-cell
# column (latency). Tests copy it before changing it.
LONG = pd.DataFrame(
    {
        "item_id": [1, 1, 1, 2, 2, 2, 3, 3],
        "agent": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "answer": ["A", "B", "A", "C", None, "C", "B", "B"],
        "gold": ["A", "A", "A", "C", "C", "C", "D", "D"],
        "category": ["x", "x", "x", "y", "y", "y", "x", "x"],
        "family": ["f", "g", "f", "f", "g", "f", "f", "g"],
        "latency": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    }
)


requires_mmlu = pytest.mark.skipif(
    not (MMLU / "responses.csv.gz").is_file(),
    reason="../shared/data/mmlu-pro is absent (a clone without the shared data folder)",
)


def make_swarm(
    seed: int = 0,
    n_items: int = 60,
    n_agents: int = 5,
    n_options: int = 4,
    missing: float = 0.1,
    with_probs: bool = True,
) -> Responses:
    """A small correlated swarm: answers, gold, probabilities and missing cells."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, n_options, n_items)
    hard = rng.random(n_items) < 0.4
    skill = rng.uniform(0.4, 0.9, n_agents)
    right = rng.random((n_items, n_agents)) < np.where(hard[:, None], skill / 3, skill)
    lure = (gold + 1) % n_options
    other = (gold[:, None] + rng.integers(1, n_options, (n_items, n_agents))) % n_options
    wrong = np.where(rng.random((n_items, n_agents)) < 0.6, lure[:, None], other)
    answers = np.where(right, gold[:, None], wrong)
    answers[rng.random((n_items, n_agents)) < 0.05] = -1  # unparsed answers
    correct = (answers == gold[:, None]).astype(float)
    correct[rng.random((n_items, n_agents)) < missing] = np.nan
    probs = None
    if with_probs:
        logits = rng.normal(size=(n_items, n_agents, n_options))
        logits[
            np.arange(n_items)[:, None], np.arange(n_agents)[None, :], np.maximum(answers, 0)
        ] += 2.5
        probs = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    return Responses.from_arrays(
        correct=correct,
        answers=answers,
        gold=gold,
        probs=probs,
        agents=[f"agent-{k}" for k in range(n_agents)],
        labels=[chr(65 + k) for k in range(n_options)],
        agent_attrs=pd.DataFrame({"family": ["a", "a", "b", "b", "c"][:n_agents]}),
    )


@pytest.fixture
def swarm() -> Responses:
    return make_swarm()


@pytest.fixture
def complete_swarm() -> Responses:
    return make_swarm(seed=1, missing=0.0)
