"""Two-step arithmetic word problems with known intermediate answers, for the orchestrator.

Each problem is a first step (a product, sum, difference or even division of two small
whole numbers) followed by adding or taking away a small number. The first step and the
rest of the problem are also written as sub-questions, so that one agent can work out the
first step and others finish from its result. Every number is a small whole number (at most
a few dozen) so that models of a few hundred million parameters have a chance.

An item (free answer; gold = the final number as text; family ``word_problems``) carries in
``attrs``:

- ``step1``: the first sub-question, answerable alone (the orchestrator's decomposition);
- ``intermediate``: its gold answer;
- ``step2``: the remaining sub-question, with ``{x}`` where the first step's result goes;
- ``then``: the second step as a signed whole number added to the intermediate
  (``"-2"``: take away 2), so the final answer is ``intermediate + then``, and the answer
  that is right *given* a premise ``x`` is ``x + then``;
- ``template``: the template's name; ``answer_grammar``: a llama.cpp grammar that keeps
  decoding to a whole number (see `monoculture.experiment.calls.build_request`).

Example:
    >>> item = generate_word_problems(1, seed=0)[0]
    >>> int(item.attrs["intermediate"]) + int(item.attrs["then"]) == int(item.answer)
    True
    >>> "{x}" in item.attrs["step2"]
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monoculture.errors import InputError
from monoculture.tasks.items import Item

__all__ = [
    "NUMBER_GRAMMAR",
    "PLACEHOLDER",
    "WORD_PROBLEM_ATTRS",
    "WORD_PROBLEM_TEMPLATES",
    "WordProblem",
    "fill_step2",
    "generate_word_problems",
    "word_problem",
]

PLACEHOLDER = "{x}"
"""Where the first step's result goes in ``step2``."""

UNKNOWN = "an unknown number of"
"""What `fill_step2` writes for a first step with no readable number (said, never guessed)."""

NUMBER_GRAMMAR = 'root ::= " "? [0-9]{1,2}'
"""A whole number of one or two digits (every answer here is below 100), after an optional
space (a completion continues ``Answer:`` with one). Two digits at most: a small model held to
digits that wants to write ``13 + 6`` otherwise goes on with ``1300``."""

WORD_PROBLEM_ATTRS = ("step1", "intermediate", "step2", "then", "template", "answer_grammar")
"""The keys every word problem carries in ``Item.attrs``."""

_PEOPLE = (("Tom", "he"), ("Anna", "she"), ("Sam", "he"), ("Mia", "she"), ("Ben", "he"))


@dataclass(frozen=True)
class WordProblem:
    """A two-step problem: ``question`` asks the whole; ``step1`` (gold ``intermediate``)
    and ``step2`` (``{x}`` = the first step's result) split it; ``final = intermediate +
    then``."""

    template: str
    question: str
    step1: str
    intermediate: int
    step2: str
    then: int

    @property
    def final(self) -> int:
        return self.intermediate + self.then


def _person(rng: np.random.Generator) -> tuple[str, str, str]:
    name, pronoun = _PEOPLE[int(rng.integers(len(_PEOPLE)))]
    return name, pronoun, pronoun.capitalize()


def _bags(rng: np.random.Generator) -> WordProblem:
    name, he, He = _person(rng)
    a, b = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    c = int(rng.integers(2, min(a * b, 10)))
    return WordProblem(
        "bags",
        f"{name} has {a} bags with {b} apples in each bag. {He} eats {c} apples. "
        f"How many apples does {he} have now?",
        f"{name} has {a} bags with {b} apples in each bag. How many apples does {he} have?",
        a * b,
        f"{name} has {PLACEHOLDER} apples. {He} eats {c} apples. "
        f"How many apples does {he} have now?",
        -c,
    )


def _shelf(rng: np.random.Generator) -> WordProblem:
    name, _, _ = _person(rng)
    a, b, c = int(rng.integers(2, 6)), int(rng.integers(2, 7)), int(rng.integers(2, 10))
    return WordProblem(
        "shelf",
        f"A shelf has {a} rows with {b} books in each row. {name} puts {c} more books on "
        "the shelf. How many books are on the shelf now?",
        f"A shelf has {a} rows with {b} books in each row. How many books are on the shelf?",
        a * b,
        f"A shelf has {PLACEHOLDER} books. {name} puts {c} more books on the shelf. "
        "How many books are on the shelf now?",
        c,
    )


def _marbles(rng: np.random.Generator) -> WordProblem:
    name, he, He = _person(rng)
    a, b = int(rng.integers(2, 15)), int(rng.integers(2, 10))
    c = int(rng.integers(2, a + b))
    return WordProblem(
        "marbles",
        f"{name} had {a} marbles and found {b} more. Then {he} gave {c} marbles to a friend. "
        f"How many marbles does {he} have now?",
        f"{name} had {a} marbles and found {b} more. How many marbles does {he} have?",
        a + b,
        f"{name} has {PLACEHOLDER} marbles. {He} gives {c} marbles to a friend. "
        f"How many marbles does {he} have now?",
        -c,
    )


def _cookies(rng: np.random.Generator) -> WordProblem:
    a = int(rng.integers(8, 25))
    b, c = int(rng.integers(1, a)), int(rng.integers(2, 10))
    return WordProblem(
        "cookies",
        f"A baker made {a} cookies and sold {b} of them. Then the baker made {c} more "
        "cookies. How many cookies does the baker have now?",
        f"A baker made {a} cookies and sold {b} of them. How many cookies are left?",
        a - b,
        f"A baker has {PLACEHOLDER} cookies. The baker makes {c} more cookies. "
        "How many cookies does the baker have now?",
        c,
    )


def _eggs(rng: np.random.Generator) -> WordProblem:
    name, he, _ = _person(rng)
    b, q, c = int(rng.integers(2, 5)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
    return WordProblem(
        "eggs",
        f"{name} has {b * q} eggs and puts them equally into {b} baskets. Then {he} adds "
        f"{c} eggs to one basket. How many eggs are in that basket now?",
        f"{name} has {b * q} eggs and puts them equally into {b} baskets. How many eggs are "
        "in each basket?",
        q,
        f"A basket has {PLACEHOLDER} eggs. {name} adds {c} eggs to it. "
        "How many eggs are in the basket now?",
        c,
    )


def _bus(rng: np.random.Generator) -> WordProblem:
    a, b = int(rng.integers(3, 20)), int(rng.integers(2, 10))
    c = int(rng.integers(2, a + b))
    return WordProblem(
        "bus",
        f"A bus has {a} people. At the first stop {b} more people get on. At the second "
        f"stop {c} people get off. How many people are on the bus now?",
        f"A bus has {a} people. At the first stop {b} more people get on. How many people "
        "are on the bus?",
        a + b,
        f"A bus has {PLACEHOLDER} people. At the next stop {c} people get off. "
        "How many people are on the bus now?",
        -c,
    )


WORD_PROBLEM_TEMPLATES: dict[str, Callable[[np.random.Generator], WordProblem]] = {
    "bags": _bags,
    "shelf": _shelf,
    "marbles": _marbles,
    "cookies": _cookies,
    "eggs": _eggs,
    "bus": _bus,
}
"""Template name -> a seeded generator of one problem."""


def _attrs(problem: WordProblem) -> dict[str, str]:
    return {
        "step1": problem.step1,
        "intermediate": str(problem.intermediate),
        "step2": problem.step2,
        "then": f"{problem.then:+d}",
        "template": problem.template,
        "answer_grammar": NUMBER_GRAMMAR,
    }


def word_problem(rng: np.random.Generator) -> tuple[str, str, list[str], dict[str, str]]:
    """One problem from a template drawn by ``rng``, as a probe family's generator returns
    it: question, gold, wrong answers for the choice form (the intermediate, the second step
    reversed, one off), and the ``attrs`` of the module docstring."""
    names = list(WORD_PROBLEM_TEMPLATES)
    problem = WORD_PROBLEM_TEMPLATES[names[int(rng.integers(len(names)))]](rng)
    wrong = [problem.intermediate, problem.intermediate - problem.then, problem.final + 1]
    return (
        problem.question,
        str(problem.final),
        [str(w) for w in wrong if w >= 0],
        _attrs(problem),
    )


def generate_word_problems(n_items: int, *, seed: int = 0) -> list[Item]:
    """``n_items`` seeded word problems (free answer), ids ``word_problems-00000``, ...

    The same items as ``generate_probes(n, families=["word_problems"], form="free")``.
    """
    if n_items < 1:
        raise InputError(f"word problems: n_items must be at least 1; got {n_items}.")
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n_items):
        question, answer, _, attrs = word_problem(rng)
        items.append(Item(f"word_problems-{k:05d}", question, answer, (), "word_problems", attrs))
    return items


def fill_step2(item: Item, intermediate: str | None) -> str:
    """The second sub-question of ``item`` built on ``intermediate`` (the first step's
    result as given, e.g. by an orchestrator); with None, the result is said to be
    unknown rather than guessed.

    Example:
        >>> item = Item("w", "?", "10", attrs={"step2": "Tom has {x} apples. He eats 2."})
        >>> fill_step2(item, "12")
        'Tom has 12 apples. He eats 2.'
        >>> fill_step2(item, None)
        'Tom has an unknown number of apples. He eats 2.'
    """
    template = item.attrs.get("step2")
    if template is None or PLACEHOLDER not in template:
        raise InputError(
            f"item {item.id}: attrs['step2'] must hold the remaining sub-question with "
            f"{PLACEHOLDER} for the first step's result; use word problems "
            '([tasks] families = ["word_problems"]).'
        )
    return template.replace(PLACEHOLDER, UNKNOWN if intermediate is None else intermediate)
