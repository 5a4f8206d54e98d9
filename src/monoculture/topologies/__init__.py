"""Topologies: how agents see each other. One module per topology, each implementing the
planning protocol of `monoculture.topologies.protocol`, and one line each in `TOPOLOGIES`.

Also: the prompts they show, and the conformity and oversight metrics of their outcomes.
"""

from __future__ import annotations

from monoculture.topologies.cascade import Cascade
from monoculture.topologies.conformity import conformity_metrics, oversight_metrics
from monoculture.topologies.debate import Debate
from monoculture.topologies.independent import Independent
from monoculture.topologies.orchestrator import Orchestrator
from monoculture.topologies.oversight import Oversight
from monoculture.topologies.prompts import (
    cascade_context,
    cascade_prompt,
    debate_context,
    debate_prompt,
    judge_prompt,
    shown_answer,
)
from monoculture.topologies.protocol import Call, Outcome, Swarm, Topology, option_order, predict

__all__ = [
    "TOPOLOGIES",
    "Call",
    "Cascade",
    "Debate",
    "Independent",
    "Orchestrator",
    "Outcome",
    "Oversight",
    "Swarm",
    "Topology",
    "cascade_context",
    "cascade_prompt",
    "conformity_metrics",
    "debate_context",
    "debate_prompt",
    "judge_prompt",
    "option_order",
    "oversight_metrics",
    "predict",
    "register_topology",
    "shown_answer",
]

TOPOLOGIES: dict[str, type[Topology]] = {
    "independent": Independent,
    "debate": Debate,
    "cascade": Cascade,
    "oversight": Oversight,
    "orchestrator": Orchestrator,
}
"""Name (the experiment's ``topology`` key) -> topology class."""


def register_topology(name: str, topology: type[Topology]) -> None:
    """Make ``topology`` available to experiments as ``topology = "name"`` (for plug-ins
    outside this package; the built-in ones are listed in `TOPOLOGIES`)."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"register_topology: name must be a plain word; got {name!r}.")
    TOPOLOGIES[name] = topology
