"""The planning protocol every topology implements, and what it plans: calls.

A topology decides who is asked what, step by step: given the items, the swarm and the
outcomes of every earlier step, it returns the next step's calls, or ``None`` when done.
It sends nothing; the experiment's dispatcher serves each call (cache, endpoint, ledger)
and hands the outcomes back. Adding a topology means one module implementing `Topology`
and one line in the registry of `monoculture.topologies`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import pandas as pd

from monoculture.agents.spec import AgentSpec
from monoculture.tasks.items import Item

if TYPE_CHECKING:
    from typing import Self

    from monoculture.experiment.config import ExperimentConfig

__all__ = ["Call", "CallKind", "Outcome", "Swarm", "Topology", "ask", "judge", "predict"]

PREDICTION_QUESTION = (
    "Other agents answered this question too. If you picked one of them at random, which "
    "option would it have chosen? Answer with the letter only."
)
"""Asked after the question for a ``predict`` call. The probability the agent puts on each
letter is its prediction of the share of the others choosing that option (Prelec, Seung &
McCoy 2017 ask for those shares; a small model can give a distribution over one letter
where it cannot write percentages)."""

CallKind = Literal["answer", "control", "judge", "predict"]


@dataclass(frozen=True, eq=False)  # identity: two calls are never the same call
class Call:
    """An agent answering an item in a round.

    Attributes:
        kind: ``answer``; ``control``, the same question without peers (for the causal
            conformity effect); ``judge`` (oversight: is another agent's answer right?); or
            ``predict`` (which option did a randomly chosen other agent pick?).
        user_prompt: what the agent is shown (its constitution is the system prompt).
        judged_agent: the worker whose answer a judge call checks.
        letters: the answers allowed when decoding is constrained.
        peers: the peers' answers the prompt shows (scripted agents react to them).
    """

    agent: AgentSpec
    item: Item
    round: int
    kind: CallKind
    user_prompt: str
    judged_agent: str | None = None
    letters: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What came back for a call: the parsed answer (a letter, yes/no for judges, or
    normalised free text), option probabilities, and whether it was sent, cached or failed."""

    call: Call
    answer: str | None
    probs: dict[str, float] | None
    status: Literal["ok", "cached", "failed"]
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Swarm:
    """The agents of one repetition: workers answer; supervisors answer and judge."""

    workers: tuple[AgentSpec, ...]
    supervisors: tuple[AgentSpec, ...] = ()


class Topology(Protocol):
    """How agents see each other, as a plan of calls step by step."""

    needs_supervisors: ClassVar[bool]
    """True when the experiment must define a ``[supervisors]`` grid."""

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Self:
        """The topology with the options the experiment sets (rounds, controls, ...)."""
        ...

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        """The calls of step ``len(history)``, or ``None`` when the topology is done.

        ``history[k]`` holds the outcomes of step k, in the order of its calls.
        """
        ...

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Figures particular to the topology (e.g. conformity), from the outcome table."""
        ...


def ask(
    agent: AgentSpec,
    item: Item,
    round_: int,
    prompt: str,
    *,
    kind: CallKind = "answer",
    peers: Sequence[str | None] = (),
) -> Call:
    """A call asking ``agent`` to answer ``item``, constrained to the item's letters."""
    shown = tuple(answer or "" for answer in peers)
    return Call(agent, item, round_, kind, prompt, None, item.letters, shown)


def predict(agent: AgentSpec, item: Item) -> Call:
    """A call asking ``agent`` which option a randomly chosen other agent picked."""
    question = item.prompt().rsplit("\n\n", 1)[0]  # the question and options, no instruction
    return Call(
        agent, item, 0, "predict", f"{question}\n\n{PREDICTION_QUESTION}", None, item.letters
    )


def judge(supervisor: AgentSpec, item: Item, round_: int, prompt: str, worker: str) -> Call:
    """A call asking ``supervisor`` whether ``worker``'s answer to ``item`` is right."""
    return Call(supervisor, item, round_, "judge", prompt, worker)


def answers_of(outcomes: Sequence[Outcome]) -> dict[tuple[str, str], str | None]:
    """(agent name, item id) -> parsed answer, for the answer calls among ``outcomes``."""
    return {
        (o.call.agent.name, o.call.item.id): o.answer for o in outcomes if o.call.kind == "answer"
    }
