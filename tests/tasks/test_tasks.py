"""Items and probes: seeded probe families, JSONL items."""

from __future__ import annotations

from pathlib import Path

import pytest

from monoculture.tasks import PROBE_FAMILIES, generate_probes
from monoculture.tasks.extraction import extract_answer, gold_answer


def test_probes_are_seeded_exact_and_cover_every_family() -> None:
    first = generate_probes(60, seed=4)
    assert [i.question for i in first] == [i.question for i in generate_probes(60, seed=4)]
    assert {i.family for i in first} == set(PROBE_FAMILIES)
    for item in first:
        assert item.answer in item.letters
        assert extract_answer(item, item.answer) == item.answer
    for item in generate_probes(30, seed=4, form="free"):
        assert extract_answer(item, f"The answer is {item.answer}.") == gold_answer(item)
    assert extract_answer(first[0], "I am not sure") is None  # never guessed


def test_items_from_jsonl(tmp_path: Path) -> None:
    from monoculture.errors import InputError
    from monoculture.tasks import load_items

    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"id": "q1", "question": "2+2?", "options": ["3", "4"], "answer": "4"}\n'
        '{"id": "q2", "question": "Capital of France?", "answer": "Paris"}\n'
    )
    first, second = load_items(path)
    assert first.answer == "B"  # the option's text became its letter
    assert second.options == ()
    path.write_text('{"id": "q1", "question": "2+2?", "options": ["3", "4"], "answer": "5"}\n')
    with pytest.raises(InputError, match="neither an option letter"):
        load_items(path)
