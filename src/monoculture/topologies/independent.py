"""Independent vote: every worker answers every item once, seeing nobody else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from monoculture.tasks.items import Item
from monoculture.topologies.protocol import Call, Outcome, Swarm, ask

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = ["Independent"]


class Independent:
    """One step: the question alone, to every worker."""

    needs_supervisors: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Independent:
        return cls()

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        if history:
            return None
        return [ask(agent, item, 0) for agent in swarm.workers for item in items]

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {}
