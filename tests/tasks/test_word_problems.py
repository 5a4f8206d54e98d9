"""Word problems: exact two-step answers, their sub-questions, and the probe family."""

from __future__ import annotations

import re

import numpy as np
import pytest

from monoculture.errors import InputError
from monoculture.tasks import generate_probes, generate_word_problems
from monoculture.tasks.extraction import extract_answer, gold_answer
from monoculture.tasks.items import Item
from monoculture.tasks.word_problems import (
    PLACEHOLDER,
    WORD_PROBLEM_ATTRS,
    WORD_PROBLEM_TEMPLATES,
    fill_step2,
    word_problem,
)

# Each template's first step and final answer, recomputed from the numbers of the question
# text in the order they appear (written here independently of the generator).
RECOMPUTE = {
    "bags": lambda a, b, c: (a * b, a * b - c),
    "shelf": lambda a, b, c: (a * b, a * b + c),
    "marbles": lambda a, b, c: (a + b, a + b - c),
    "cookies": lambda a, b, c: (a - b, a - b + c),
    "eggs": lambda n, b, c: (n // b, n // b + c),
    "bus": lambda a, b, c: (a + b, a + b - c),
}


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def test_every_template_is_exact_against_an_independent_recomputation() -> None:
    # Catches: a template whose stored intermediate or final answer is not what its text
    # asks (a wrong operation or sign), a step 1 or step 2 that describes another problem,
    # an uneven division, and numbers the two-digit answer grammar cannot write.
    assert set(RECOMPUTE) == set(WORD_PROBLEM_TEMPLATES)
    rng = np.random.default_rng(7)
    for name, template in WORD_PROBLEM_TEMPLATES.items():
        for _ in range(200):
            problem = template(rng)
            numbers = _numbers(problem.question)
            assert len(numbers) == 3, problem.question
            intermediate, final = RECOMPUTE[name](*numbers)
            if name == "eggs":
                assert numbers[0] % numbers[1] == 0, problem.question
            assert (problem.intermediate, problem.final) == (intermediate, final)
            assert 0 <= intermediate < 100
            assert 0 <= final < 100
            # Step 1 carries the first two numbers; step 2 the third, and the placeholder.
            assert _numbers(problem.step1) == numbers[:2]
            assert _numbers(problem.step2.replace(PLACEHOLDER, "")) == numbers[2:]
            assert abs(problem.then) == numbers[2]


def test_items_carry_their_decomposition_in_attrs() -> None:
    # Catches: attrs missing a key the orchestrator reads, ``then`` not mapping the
    # intermediate to the gold answer, and a gold answer extraction cannot read back.
    items = generate_word_problems(40, seed=3)
    assert {i.attrs["template"] for i in items} == set(WORD_PROBLEM_TEMPLATES)
    for item in items:
        assert set(WORD_PROBLEM_ATTRS) <= set(item.attrs)
        assert item.options == ()
        assert item.family == "word_problems"
        assert int(item.attrs["intermediate"]) + int(item.attrs["then"]) == int(item.answer)
        assert gold_answer(item) == item.answer
        assert extract_answer(item, f" {item.answer}") == item.answer
        filled = fill_step2(item, item.attrs["intermediate"])
        assert PLACEHOLDER not in filled
        assert item.attrs["intermediate"] in filled


def test_the_probe_family_gives_the_same_items_with_attrs() -> None:
    # Catches: the probe family dropping attrs (the orchestrator could not decompose), ids
    # or seeding that differ from the generator's, and the existing families changed.
    probes = generate_probes(12, families=["word_problems"], form="free", seed=5)
    assert probes == generate_word_problems(12, seed=5)
    before = generate_probes(12, families=["arithmetic", "capitals"], seed=5)
    assert all(item.attrs == {} for item in before)
    choice = generate_probes(12, families=["word_problems"], form="choice", seed=5)
    for chosen in choice:
        # Choice form (its own draws, as every family's): the right option is the final
        # answer the attrs give; the distractors differ from it.
        final = int(chosen.attrs["intermediate"]) + int(chosen.attrs["then"])
        assert chosen.options[chosen.letters.index(chosen.answer)] == str(final)
        assert len(set(chosen.options)) == len(chosen.options) >= 2


def test_an_unreadable_first_step_is_said_not_guessed() -> None:
    # Catches: a missing orchestrator number silently replaced by 0 or by the gold value.
    item = Item("w", "?", "10", attrs={"step2": "Tom has {x} apples. He eats 2 apples."})
    assert fill_step2(item, None) == "Tom has an unknown number of apples. He eats 2 apples."
    assert fill_step2(item, "7") == "Tom has 7 apples. He eats 2 apples."
    with pytest.raises(InputError, match="word_problems"):
        fill_step2(Item("q", "What is 2 + 2?", "4"), "4")


def test_generation_is_seeded() -> None:
    # Catches: the global RNG or an unseeded draw (runs could not be compared or cached).
    first = word_problem(np.random.default_rng(11))
    assert first == word_problem(np.random.default_rng(11))
    assert generate_word_problems(20, seed=1) == generate_word_problems(20, seed=1)
    assert generate_word_problems(20, seed=1) != generate_word_problems(20, seed=2)
    with pytest.raises(InputError, match="at least 1"):
        generate_word_problems(0)
