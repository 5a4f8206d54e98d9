"""Oversight: workers and supervisors answer; then every supervisor judges every worker's
answer (weak-oversees-strong when the supervisors are the weaker models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from monoculture.tasks.items import Item
from monoculture.topologies.conformity import oversight_metrics
from monoculture.topologies.prompts import judge_prompt
from monoculture.topologies.protocol import Call, Outcome, Swarm, answers_of, ask, judge

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = ["Oversight"]


class Oversight:
    """Step 0: every worker and supervisor answers alone (a supervisor's own errors are
    compared with its misses). Step 1: each supervisor says yes or no to each worker's
    answer on each item."""

    needs_supervisors: ClassVar[bool] = True

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Oversight:
        return cls()

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        if not history:
            answering = swarm.workers + swarm.supervisors
            return [ask(agent, item, 0) for agent in answering for item in items]
        if len(history) > 1:
            return None
        answers = answers_of(history[0])
        return [
            judge(
                supervisor,
                item,
                1,
                judge_prompt(item, answers[(worker.name, item.id)]),
                worker.name,
            )
            for supervisor in swarm.supervisors
            for worker in swarm.workers
            for item in items
        ]

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {"oversight": oversight_metrics(outcomes)}
