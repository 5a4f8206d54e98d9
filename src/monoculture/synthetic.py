"""Synthetic swarms with a known latent structure, for demos, tests and calibration.

Every `Responses` made here says so: its source reads ``<synthetic ...>`` and its notes
state the generating model, and `analyze` marks the verdict as synthetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.responses import InputSummary, Responses

__all__ = ["latent_swarm"]


def latent_swarm(
    n_agents: int = 12,
    n_items: int = 500,
    *,
    n_options: int = 4,
    n_families: int = 3,
    shared_loading: float = 1.5,
    family_loading: float = 1.0,
    lure_share: float = 0.6,
    seed: int | np.random.Generator | None = 0,
) -> Responses:
    """Agents with a shared latent blind spot (a logistic latent-factor model).

    ``logit P(wrong) = difficulty_item - ability_agent + shared_loading * z_item
    + family_loading * u_item,family``, with ``z`` a blind spot shared by all agents and
    ``u`` one shared within each family. A wrong agent picks the item's lure answer with
    probability ``lure_share``, otherwise a uniformly random wrong option, so that
    correlated errors also agree on the wrong answer.

    Example:
        >>> swarm = latent_swarm(n_agents=4, n_items=50, seed=3)
        >>> swarm.n_agents, swarm.input_summary.source
        (4, '<synthetic latent_swarm seed=3>')
    """
    if n_agents < 2 or n_items < 1 or n_options < 2 or n_families < 1:
        raise InputError(
            "latent_swarm: needs n_agents >= 2, n_items >= 1, n_options >= 2, n_families >= 1; "
            f"got {n_agents}, {n_items}, {n_options}, {n_families}."
        )
    if not 0.0 <= lure_share <= 1.0:
        raise InputError(f"latent_swarm: `lure_share` must be in [0, 1]; got {lure_share}.")
    rng = np.random.default_rng(seed)
    family = np.arange(n_agents) % n_families
    ability = rng.normal(1.0, 0.6, n_agents)
    difficulty = rng.normal(0.0, 1.0, n_items)
    blind_spot = rng.normal(size=n_items)
    family_spot = rng.normal(size=(n_items, n_families))
    logit_wrong = (
        difficulty[:, None]
        - ability[None, :]
        + shared_loading * blind_spot[:, None]
        + family_loading * family_spot[:, family]
    )
    wrong = rng.random((n_items, n_agents)) < 1.0 / (1.0 + np.exp(-logit_wrong))
    gold = rng.integers(0, n_options, n_items)
    lure = (gold + rng.integers(1, n_options, n_items)) % n_options
    random_wrong = (gold[:, None] + rng.integers(1, n_options, (n_items, n_agents))) % n_options
    takes_lure = rng.random((n_items, n_agents)) < lure_share
    wrong_answer = np.where(takes_lure, lure[:, None], random_wrong)
    answers = np.where(wrong, wrong_answer, gold[:, None])
    labels = [chr(65 + k) for k in range(n_options)]
    agents = [f"synthetic-{k:02d}" for k in range(n_agents)]
    note = (
        "synthetic: logistic latent-factor swarm with a shared blind spot "
        f"(shared loading {shared_loading}, family loading {family_loading}, "
        f"{n_families} families, lure share {lure_share})"
    )
    return Responses.from_arrays(
        answers=answers,
        gold=gold,
        agents=agents,
        items=[f"item-{k:05d}" for k in range(n_items)],
        labels=labels,
        agent_attrs=pd.DataFrame({"family": [f"family-{f}" for f in family]}),
        input_summary=InputSummary(
            f"<synthetic latent_swarm seed={seed if isinstance(seed, int) else 'rng'}>",
            n_items * n_agents,
            n_items * n_agents,
            {},
            (note,),
        ),
    )
