"""What an agent is shown in each topology.

- independent: the question alone;
- debate: the question and the tally of the swarm's answers in the previous round;
- cascade: the question and the answers of the agents before it in the sequence;
- oversight: a supervisor sees the question and one worker's answer and says yes or no.

Answers are held as the item's own letters; each agent is shown them the way it sees the
item (its option order: the letter it sees; text and cloze agents: the option's text).
"""

from __future__ import annotations

from collections.abc import Sequence

from monoculture.agents.spec import AgentSpec
from monoculture.tasks.items import LETTERS, Item, PromptFormat
from monoculture.topologies.protocol import option_order

__all__ = [
    "cascade_context",
    "cascade_prompt",
    "debate_context",
    "debate_prompt",
    "judge_prompt",
    "shown_answer",
]


def shown_answer(
    item: Item, answer: str | None, *, form: PromptFormat = "letter", order: Sequence[int] = ()
) -> str:
    """``answer`` (one of the item's own letters, or free text) as an agent who sees the
    options in ``order`` and answers in ``form`` reads it: ``"B) Paris"`` or ``"Paris"``."""
    if answer is None:
        return "(no answer)"
    if item.options and answer in item.letters:
        index = item.letters.index(answer)
        text = item.options[index]
        if form != "letter":
            return text
        position = list(order).index(index) if order else index
        return f"{LETTERS[position]}) {text}"
    return answer


def _tally(
    item: Item, previous: Sequence[str | None], form: PromptFormat, order: Sequence[int]
) -> str:
    counts: dict[str, int] = {}
    for answer in previous:
        shown = shown_answer(item, answer, form=form, order=order)
        counts[shown] = counts.get(shown, 0) + 1
    tally = "; ".join(f"{shown}: {n}" for shown, n in sorted(counts.items()))
    return f"In the previous round the {len(previous)} agents answered: {tally}. Consider this."


def debate_context(agent: AgentSpec, item: Item, previous: Sequence[str | None]) -> str:
    """The tally of the previous round's answers, as ``agent`` reads the options. For agents
    who see the item alike, the same text on an item: a prompt prefix a llama.cpp server
    evaluates once per constitution."""
    form: PromptFormat = agent.elicitation if item.options else "letter"
    return _tally(item, previous, form, option_order(agent, item))


def debate_prompt(item: Item, previous: Sequence[str | None]) -> str:
    """The question and how often each answer was given in the previous round, by the whole
    swarm, with letters in the item's own order."""
    return item.prompt("letter", context=_tally(item, previous, "letter", ()))


def cascade_context(agent: AgentSpec, item: Item, before: Sequence[tuple[str, str | None]]) -> str:
    """The answers of the agents before ``agent``, as it reads the options."""
    if not before:
        return ""
    form: PromptFormat = agent.elicitation if item.options else "letter"
    order = option_order(agent, item)
    lines = ["Agents before you answered:"]
    lines += [
        f"- {name}: {shown_answer(item, answer, form=form, order=order)}" for name, answer in before
    ]
    return "\n".join(lines)


def cascade_prompt(item: Item, before: Sequence[tuple[str, str | None]]) -> str:
    """The question and the answers before, with letters in the item's own order."""
    if not before:
        return item.prompt()
    lines = ["Agents before you answered:"]
    lines += [f"- {name}: {shown_answer(item, answer)}" for name, answer in before]
    return item.prompt("letter", context="\n".join(lines))


def judge_prompt(item: Item, answer: str | None) -> str:
    return "\n".join(
        [
            "Check another agent's answer.",
            "",
            item.prompt(),
            "",
            f"Proposed answer: {shown_answer(item, answer)}",
            "Is the proposed answer correct? Answer yes or no.",
        ]
    )
