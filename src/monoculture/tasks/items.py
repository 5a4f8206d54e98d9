"""`Item`: a question with a gold answer, optionally multiple choice; JSONL loading."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from monoculture.errors import InputError, ReadError

__all__ = ["Item", "load_items"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


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

    def prompt(self) -> str:
        """The question as shown to an agent."""
        if not self.options:
            return f"{self.question}\nGive only the final answer."
        lines = [self.question, ""]
        lines += [
            f"{letter}) {text}" for letter, text in zip(self.letters, self.options, strict=True)
        ]
        lines += ["", "Answer with the letter of the correct option only."]
        return "\n".join(lines)


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
