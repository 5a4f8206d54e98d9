"""Answer extraction: turn a model's text into an answer, or say it is unparseable.

Multiple choice: the first standalone option letter (``B``, ``(B)``, ``B)``, ``answer is B``),
else an option's exact text. Free answers: the first number for numeric gold answers, a
date for date answers, ``yes``/``no``, else the first word that matches a word-valued gold.
An answer that fits none of these is recorded as unparseable (``None``), never guessed.
"""

from __future__ import annotations

import re

from monoculture.tasks.items import Item

__all__ = ["extract_answer", "normalise"]

_LETTER = re.compile(r"(?<![A-Za-z])\(?([A-Z])\)?(?![A-Za-z])")
# An exponent belongs to the number: "1e9" read as "1" would turn a wild answer into a
# plausible one (an environment's action would pass its range check).
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
_DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+(\d{1,2}),?\s+(\d{4})"
)


def normalise(text: str) -> str:
    return " ".join(text.strip().lower().replace(",", "").split())


def extract_answer(item: Item, text: str | None) -> str | None:
    """The answer in ``text`` in the item's terms (a letter or a normalised free answer)."""
    if text is None:
        return None
    if item.options:
        allowed = set(item.letters)
        for match in _LETTER.finditer(text):
            if match.group(1) in allowed:
                return match.group(1)
        lowered = normalise(text)
        for letter, option in zip(item.letters, item.options, strict=True):
            if normalise(option) == lowered:
                return letter
        return None
    gold = normalise(item.answer)
    if _DATE.fullmatch(item.answer.strip()):
        found = _DATE.search(text)
        return (
            normalise(f"{found.group(1)} {int(found.group(2)):02d} {found.group(3)}")
            if (found)
            else None
        )
    if _NUMBER.fullmatch(item.answer.strip()):
        number = _NUMBER.search(text)
        return normalise(number.group(0)) if number else None
    words = re.findall(r"[a-z]+", text.lower())
    if gold in ("yes", "no"):
        return next((w for w in words if w in ("yes", "no")), None)
    return gold if gold in words else (words[0] if words else None)


def gold_answer(item: Item) -> str:
    """The gold answer in the same terms as `extract_answer`."""
    if item.options:
        return item.answer
    return extract_answer(item, item.answer) or normalise(item.answer)
