"""The planning protocol: a topology added in a few lines runs end to end.

Catches: a runner that still special-cases topology names (the toy one would be refused or
planned as independent), a loop that stops after the first step or never stops, and
history handed to the topology out of step order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.tasks.items import Item
from monoculture.topologies import TOPOLOGIES, register_topology
from monoculture.topologies.protocol import Call, Outcome, Swarm, answers_of, ask


class EchoTwice:
    """Toy: everyone answers alone, then answers again shown their own first answer."""

    needs_supervisors: ClassVar[bool] = False

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> EchoTwice:
        return cls()

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        if len(history) == 2:
            return None
        first = answers_of(history[0]) if history else {}
        return [
            ask(a, i, len(history), i.prompt(), peers=[first[(a.name, i.id)]] if history else [])
            for a in swarm.workers
            for i in items
        ]

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {"steps": outcomes.groupby("round").size().rename("calls").reset_index()}


@pytest.fixture
def echo_registered() -> object:
    register_topology("echo-twice", EchoTwice)
    yield
    del TOPOLOGIES["echo-twice"]


@pytest.mark.usefixtures("echo_registered")
def test_a_toy_topology_runs_end_to_end(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "topology": "echo-twice",
            "bootstrap": 0,
            "tasks": {"n_items": 12},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
        }
    )
    result = run_experiment(config, tmp_path / "run")
    assert sorted(result.responses) == [0, 1]
    assert all(r.n_agents == 3 and r.n_items == 12 for r in result.responses.values())
    assert result.tables["steps"]["calls"].tolist() == [36, 36]
    assert result.progress.done == 72


def test_unknown_topology_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown topology 'ring'.*debate"):
        ExperimentConfig.model_validate({"topology": "ring"})


def test_supervisors_required_by_the_topology_not_by_its_name() -> None:
    with pytest.raises(ValueError, match="needs a \\[supervisors\\] grid"):
        ExperimentConfig.model_validate({"topology": "oversight"})
