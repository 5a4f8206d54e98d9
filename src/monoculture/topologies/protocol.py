"""The planning protocol every topology implements, and what it plans: calls.

A topology decides who is asked what, step by step: given the items, the swarm and the
outcomes of every earlier step, it returns the next step's calls, or ``None`` when done.
It sends nothing; the experiment's dispatcher serves each call (cache, endpoint, ledger)
and hands the outcomes back. Adding a topology means one module implementing `Topology`
and one line in the registry of `monoculture.topologies`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd

from monoculture.agents.spec import AgentSpec
from monoculture.tasks.items import Item, PromptFormat

if TYPE_CHECKING:
    from typing import Self

    from monoculture.experiment.config import ExperimentConfig

__all__ = [
    "Call",
    "CallKind",
    "Outcome",
    "Swarm",
    "Topology",
    "ask",
    "judge",
    "option_order",
    "predict",
]

PREDICTION_QUESTION = (
    "Other agents answered this question too. If you picked one of them at random, which "
    "option would it have chosen? Answer with the letter only."
)
"""Asked after the question for a ``predict`` call. The probability the agent puts on each
letter is its prediction of the share of the others choosing that option (Prelec, Seung &
McCoy 2017 ask for those shares; a small model can give a distribution over one letter
where it cannot write percentages)."""

CallKind = Literal["answer", "control", "judge", "predict", "decompose"]


@dataclass(frozen=True, eq=False)  # identity: two calls are never the same call
class Call:
    """An agent answering an item in a round.

    Attributes:
        kind: ``answer``; ``control``, the same question without peers (for the causal
            conformity effect); ``judge`` (oversight: is another agent's answer right?); or
            ``predict`` (which option did a randomly chosen other agent pick?); or
            ``decompose`` (an orchestrator's first step of a task, whose answer the workers'
            sub-questions are built from).
        user_prompt: what the agent is shown (its constitution is the system prompt).
        judged_agent: the worker whose answer a judge call checks.
        letters: the answers allowed when decoding is constrained (the displayed letters).
        peers: the peers' answers the prompt shows (scripted agents react to them).
        order: the displayed order of the options: ``order[k]`` is the original index of
            the option shown at position k; empty for the item's own order.
        form: how the prompt asks for the answer (`PromptFormat`: ``letter``, ``text`` or
            ``cloze``); judge and predict calls are always ``letter``.
    """

    agent: AgentSpec
    item: Item
    round: int
    kind: CallKind
    user_prompt: str
    judged_agent: str | None = None
    letters: tuple[str, ...] = ()
    peers: tuple[str, ...] = ()
    order: tuple[int, ...] = ()
    form: PromptFormat = "letter"

    @property
    def shown(self) -> Item:
        """The item as the agent sees it: options in the displayed order, the gold letter
        moved with its option."""
        return self.item.reordered(self.order)


@dataclass
class Outcome:
    """What came back for a call: the parsed answer (an original option letter, whatever
    order the options were shown in; yes/no for judges; or normalised free text), option
    probabilities by original letter, the displayed position (0-based) of the option chosen
    (None for cloze, which shows no options, and for free answers), and whether it was
    sent, cached or failed."""

    call: Call
    answer: str | None
    probs: dict[str, float] | None
    status: Literal["ok", "cached", "failed"]
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    position: int | None = None


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


def option_order(agent: AgentSpec, item: Item) -> tuple[int, ...]:
    """The order ``agent`` is shown ``item``'s options in (see `Call.order`): empty for
    ``fixed``; a permutation seeded by the item's id (``shuffle_item``: the same for every
    agent) or by the agent's name and the item's id (``shuffle_agent``).

    Example:
        >>> a = AgentSpec(name="a", option_order="shuffle_item")
        >>> b = AgentSpec(name="b", option_order="shuffle_item")
        >>> item = Item("q1", "?", "A", ("w", "x", "y", "z"))
        >>> option_order(a, item) == option_order(b, item)
        True
    """
    if not item.options or agent.option_order == "fixed":
        return ()
    key = item.id if agent.option_order == "shuffle_item" else f"{agent.name}\x00{item.id}"
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    permutation = np.random.default_rng(seed).permutation(len(item.options))
    return tuple(int(k) for k in permutation)


def ask(
    agent: AgentSpec,
    item: Item,
    round_: int,
    prompt: str | None = None,
    *,
    kind: CallKind = "answer",
    peers: Sequence[str | None] = (),
    context: str = "",
) -> Call:
    """A call asking ``agent`` to answer ``item``.

    With ``prompt`` None (the built-in topologies) the agent sees the item its own way:
    its elicitation (letter, text or cloze) and its option order, with ``context`` (e.g. a
    debate tally) before the instruction. A ``prompt`` string is shown as given, with the
    options in the item's own order and the answer asked for by letter (for topologies that
    write their own prompts)."""
    shown = tuple(answer or "" for answer in peers)
    if prompt is not None:
        return Call(agent, item, round_, kind, prompt, None, item.letters, shown)
    form: PromptFormat = agent.elicitation if item.options else "letter"
    order = option_order(agent, item) if form != "cloze" else ()  # cloze shows no options
    text = item.reordered(order).prompt(form, context=context)
    return Call(agent, item, round_, kind, text, None, item.letters, shown, order, form)


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
