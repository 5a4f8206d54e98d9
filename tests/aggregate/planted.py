"""Generators of swarms with a known structure, for the aggregation tests."""

from __future__ import annotations

import numpy as np

from monoculture import Responses


def bloc_swarm(
    n_items: int,
    *,
    n_bloc: int = 5,
    bloc_accuracy: float = 0.6,
    n_independent: int = 4,
    independent_accuracy: float = 0.6,
    n_options: int = 4,
    seed: int = 0,
) -> Responses:
    """A cloned bloc (the same answer from every member, right with ``bloc_accuracy``,
    otherwise one shared wrong option) next to agents that err independently, each wrong
    answer uniform over the wrong options."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, n_options, n_items)

    def answers(accuracy: float, size: int) -> np.ndarray:
        wrong = (gold[:, None] + rng.integers(1, n_options, (n_items, size))) % n_options
        right = rng.random((n_items, size)) < accuracy
        return np.where(right, gold[:, None], wrong)

    bloc = np.repeat(answers(bloc_accuracy, 1), n_bloc, axis=1)
    independent = answers(independent_accuracy, n_independent)
    names = [f"bloc_{i}" for i in range(n_bloc)] + [f"solo_{i}" for i in range(n_independent)]
    return Responses.from_arrays(
        answers=np.hstack([bloc, independent]),
        gold=gold,
        agents=names,
        labels=[chr(ord("A") + k) for k in range(n_options)],
    )
