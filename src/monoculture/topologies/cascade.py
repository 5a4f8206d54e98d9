"""Cascade: workers answer one after another, each seeing the answers of those before it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from monoculture.tasks.items import Item
from monoculture.topologies.prompts import cascade_context
from monoculture.topologies.protocol import Call, Outcome, Swarm, answers_of, ask

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = ["Cascade"]


class Cascade:
    """Step k: worker k answers every item, shown the answers of workers 0..k-1 (round 0:
    each agent answers once, so the answers form one `Responses`)."""

    needs_supervisors: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Cascade:
        return cls()

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        position = len(history)
        if position >= len(swarm.workers):
            return None
        before = swarm.workers[:position]
        answers = answers_of([outcome for step in history for outcome in step])
        calls = []
        for item in items:
            shown = [(agent.name, answers[(agent.name, item.id)]) for agent in before]
            calls.append(
                ask(
                    swarm.workers[position],
                    item,
                    0,
                    context=cascade_context(swarm.workers[position], item, shown),
                    peers=[answer for _, answer in shown],
                )
            )
        return calls

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {}
