"""`Item`: a question with a gold answer, optionally multiple choice; JSONL loading."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from monoculture.errors import InputError, ReadError

__all__ = ["Item", "load_items"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

PromptFormat = Literal["letter", "text", "cloze"]
"""How an item is put to an agent: options with letters (answer with the letter), options
as a list (answer with the option's text), or ``cloze``: the question alone, ending in
``Answer:``, each option then scored as its continuation."""

_INSTRUCTIONS = {
    "letter": "Answer with the letter of the correct option only.",
    "text": "Answer with the text of the correct option only.",
}


@dataclass(frozen=True)
class Item:
    """One question. ``options`` is empty for a free answer; then ``answer`` is the gold text.
    For multiple choice ``answer`` is the gold letter (``A``, ``B``, ...)."""

    id: str
    question: str
    answer: str
    options: tuple[str, ...] = ()
    family: str = "custom"
    attrs: dict[str, str] = field(default_factory=dict)

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(LETTERS[: len(self.options)])

    def prompt(self, form: PromptFormat = "letter", *, context: str = "") -> str:
        """The question as shown to an agent, in the ``form`` of `PromptFormat`;
        ``context`` (e.g. the tally of a debate round) goes after the options, before
        the instruction (for ``cloze``, before ``Answer:``).

        Example:
            >>> item = Item("q", "Capital of France?", "A", ("Paris", "Rome"))
            >>> print(item.prompt("cloze"))
            Question: Capital of France?
            Answer:
        """
        if form == "cloze":
            middle = f"\n{context}" if context else ""
            return f"Question: {self.question}{middle}\nAnswer:"
        if not self.options:
            return f"{self.question}\nGive only the final answer." + (
                f"\n{context}" if context else ""
            )
        lines = [self.question, ""]
        if form == "text":
            lines += [f"- {text}" for text in self.options]
        else:
            lines += [
                f"{letter}) {text}" for letter, text in zip(self.letters, self.options, strict=True)
            ]
        if context:
            lines += ["", context]
        lines += ["", _INSTRUCTIONS[form]]
        return "\n".join(lines)

    def reordered(self, order: Sequence[int]) -> Item:
        """The item with its options shown in ``order`` (``order[k]`` is the original index
        of the option shown at position k) and the gold letter moved with its option.

        Example:
            >>> Item("q", "?", "A", ("x", "y", "z")).reordered((2, 0, 1)).answer
            'B'
        """
        if not order:
            return self
        if sorted(order) != list(range(len(self.options))):
            raise ValueError(
                f"order must be a permutation of 0..{len(self.options) - 1} (one entry per "
                f"option of item {self.id}); got {list(order)}."
            )
        options = tuple(self.options[k] for k in order)
        gold = LETTERS[list(order).index(LETTERS.index(self.answer))]
        return replace(self, options=options, answer=gold)


def load_items(path: str | Path) -> list[Item]:
    """Read items from JSONL: ``{"id", "question", "options"?, "answer"}`` per line.

    For multiple choice, ``answer`` may be the letter or the text of the right option.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ReadError(f"{path}: cannot be read: {error.strerror}.") from None
    items, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ReadError(f"{path}: line {number} is not JSON ({error.msg}).") from None
        missing = [key for key in ("id", "question", "answer") if key not in record]
        if missing:
            raise InputError(
                f"{path}: line {number} lacks {missing}; each item needs id, question and answer."
            )
        item_id = str(record["id"])
        if item_id in seen:
            raise InputError(f"{path}: line {number} repeats item id {item_id!r}.")
        seen.add(item_id)
        options = tuple(str(o) for o in record.get("options") or ())
        answer = str(record["answer"]).strip()
        if options:
            letters = LETTERS[: len(options)]
            if answer in options:
                answer = letters[options.index(answer)]
            if answer not in letters:
                raise InputError(
                    f"{path}: line {number}: answer {answer!r} is neither an "
                    f"option letter ({letters}) nor an option's text."
                )
        items.append(Item(item_id, str(record["question"]), answer, options, "custom"))
    if not items:
        raise ReadError(f"{path}: no items.")
    return items
