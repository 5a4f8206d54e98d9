"""What an agent is shown in each topology.

- independent: the question alone;
- debate: the question and the tally of the swarm's answers in the previous round;
- cascade: the question and the answers of the agents before it in the sequence;
- oversight: a supervisor sees the question and one worker's answer and says yes or no.
"""

from __future__ import annotations

from collections.abc import Sequence

from monoculture.tasks.items import Item

__all__ = ["cascade_prompt", "debate_prompt", "judge_prompt"]


def _shown(item: Item, answer: str | None) -> str:
    if answer is None:
        return "(no answer)"
    if item.options and answer in item.letters:
        return f"{answer}) {item.options[item.letters.index(answer)]}"
    return answer


def debate_prompt(item: Item, previous: Sequence[str | None]) -> str:
    """The question and how often each answer was given in the previous round, by the whole
    swarm. The same text for every agent on an item: short, and a shared prompt prefix that
    a llama.cpp server evaluates once per constitution."""
    counts: dict[str, int] = {}
    for answer in previous:
        shown = _shown(item, answer)
        counts[shown] = counts.get(shown, 0) + 1
    tally = "; ".join(f"{shown}: {n}" for shown, n in sorted(counts.items()))
    return (
        f"{item.prompt()}\nIn the previous round the {len(previous)} agents answered: "
        f"{tally}. Consider this, then answer."
    )


def cascade_prompt(item: Item, before: Sequence[tuple[str, str | None]]) -> str:
    if not before:
        return item.prompt()
    lines = [item.prompt(), "", "Agents before you answered:"]
    lines += [f"- {name}: {_shown(item, answer)}" for name, answer in before]
    if item.options:
        lines += ["", "Answer with the letter of the correct option only."]
    return "\n".join(lines)


def judge_prompt(item: Item, answer: str | None) -> str:
    return "\n".join(
        [
            "Check another agent's answer.",
            "",
            item.prompt(),
            "",
            f"Proposed answer: {_shown(item, answer)}",
            "Is the proposed answer correct? Answer yes or no.",
        ]
    )
