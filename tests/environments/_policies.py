"""Fixed policies for the environment tests."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class FixedPolicy:
    """Every agent asks for ``values[step][agent]`` (the last row repeats), ignoring what it
    sees."""

    def __init__(self, values: list[list[float]]) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.step = 0

    def reset(self, runs: int, n_agents: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        self.step = 0
        return {}

    def act(
        self,
        observation: Mapping[str, np.ndarray],
        memory: dict[str, np.ndarray],
        rng: np.random.Generator,
    ) -> np.ndarray:
        runs = next(iter(observation.values())).shape[0]
        row = self.values[min(self.step, len(self.values) - 1)]
        self.step += 1
        return np.broadcast_to(row, (runs, len(row))).copy()
