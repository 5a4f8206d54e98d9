"""Debate: an independent round, then rounds in which every worker sees the tally of the
swarm's previous answers; optionally a re-ask without peers, for the causal conformity
effect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from monoculture.tasks.items import Item
from monoculture.topologies.conformity import conformity_metrics
from monoculture.topologies.prompts import debate_context
from monoculture.topologies.protocol import Call, Outcome, Swarm, answers_of, ask

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = ["Debate"]


@dataclass(frozen=True)
class Debate:
    """Step 0 answers alone; steps 1..``rounds`` show the previous round's tally.

    Attributes:
        rounds: debate rounds after the independent one.
        conformity_control: in round 1, also re-ask each worker without peers.
        control_items: re-ask on only the first N items (all when ``None``).
    """

    rounds: int = 2
    conformity_control: bool = True
    control_items: int | None = None
    needs_supervisors: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Debate:
        return cls(config.rounds, config.conformity_control, config.control_items)

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        round_ = len(history)
        workers = swarm.workers
        if round_ == 0:
            return [ask(agent, item, 0) for agent in workers for item in items]
        if round_ > self.rounds:
            return None
        previous = answers_of(history[-1])
        calls = [
            ask(
                agent,
                item,
                round_,
                context=debate_context(
                    agent, item, [previous[(other.name, item.id)] for other in workers]
                ),
                peers=[previous[(other.name, item.id)] for other in workers if other is not agent],
            )
            for agent in workers
            for item in items
        ]
        if round_ == 1 and self.conformity_control:
            controlled = items[: self.control_items or len(items)]
            calls += [
                ask(agent, item, 1, kind="control") for agent in workers for item in controlled
            ]
        return calls

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {"conformity": conformity_metrics(outcomes)}
