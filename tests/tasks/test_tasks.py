"""Items and probes: seeded probe families, JSONL items."""

from __future__ import annotations

from pathlib import Path

import pytest

from monoculture.errors import InputError
from monoculture.tasks import (
    EASY_FAMILIES,
    HARD_FAMILIES,
    PROBE_FAMILIES,
    expand_families,
    generate_probes,
)
from monoculture.tasks.calibration import calibration_table, proportion_interval
from monoculture.tasks.extraction import extract_answer, gold_answer
from monoculture.tasks.items import Item


def test_probes_are_seeded_exact_and_cover_every_family() -> None:
    first = generate_probes(60, seed=4)
    assert [i.question for i in first] == [i.question for i in generate_probes(60, seed=4)]
    # Catches: the default changed to include the easy families (the hard items moved).
    assert {i.family for i in first} == set(HARD_FAMILIES)
    assert set(HARD_FAMILIES) | set(EASY_FAMILIES) | {"word_problems"} == set(PROBE_FAMILIES)
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


def test_easy_families_have_four_distinct_options_and_one_gold() -> None:
    # Catches: a distractor equal to the answer (two right options), or fewer than 4.
    items = generate_probes(240, families=["easy"], seed=1)
    assert {i.family for i in items} == set(EASY_FAMILIES)
    for item in items:
        assert len(item.options) == 4
        assert len(set(item.options)) == 4
        assert item.answer in item.letters
    from monoculture.tasks.probes import _CAPITALS

    capitals = dict(_CAPITALS)
    for item in (i for i in items if i.family == "capitals"):
        country = item.question.removeprefix("What is the capital of ").removesuffix("?")
        assert item.options[item.letters.index(item.answer)] == capitals[country]


def test_family_groups_expand_and_unknown_names_are_refused() -> None:
    assert expand_families(["easy", "capitals", "arithmetic"]) == [*EASY_FAMILIES, "arithmetic"]
    assert expand_families(None) == list(HARD_FAMILIES)
    with pytest.raises(InputError, match=r"unknown families \['capitols'\]"):
        generate_probes(4, families=["capitols"])


def test_reordered_moves_the_gold_letter_with_its_option() -> None:
    item = Item("q", "Capital of France?", "C", ("Rome", "Madrid", "Paris", "Oslo"))
    shown = item.reordered((2, 0, 3, 1))  # Paris shown first
    assert shown.options == ("Paris", "Rome", "Oslo", "Madrid")
    assert shown.answer == "A"
    assert item.reordered(()) is item
    with pytest.raises(ValueError, match="permutation"):
        item.reordered((0, 0, 1, 2))


def test_prompt_forms() -> None:
    item = Item("q", "Capital of France?", "A", ("Paris", "Rome"))
    assert "A) Paris" in item.prompt()
    assert item.prompt().endswith("option only.")
    text = item.prompt("text", context="Peers said Rome.")
    assert "- Paris" in text
    assert "A)" not in text
    assert text.index("Peers said") < text.index("Answer with the text")
    assert item.prompt("cloze") == "Question: Capital of France?\nAnswer:"
    assert item.prompt("cloze", context="Peers: Rome.").endswith("Peers: Rome.\nAnswer:")


def test_proportion_intervals_match_statsmodels() -> None:
    # Reference: statsmodels' proportion_confint (Wilson; "beta" is Clopper-Pearson).
    from statsmodels.stats.proportion import proportion_confint

    for successes, trials in [(7, 16), (0, 10), (10, 10), (39, 60)]:
        for method, theirs in [("wilson", "wilson"), ("clopper-pearson", "beta")]:
            ours = proportion_interval(successes, trials, method=method)  # type: ignore[arg-type]
            reference = proportion_confint(successes, trials, alpha=0.05, method=theirs)
            assert ours == pytest.approx(tuple(float(v) for v in reference), abs=1e-9)
    low, high = proportion_interval(0, 0)
    assert low != low
    assert high != high


def test_calibration_table_counts_answers_against_chance() -> None:
    import pandas as pd

    rows = [
        {
            "model": "m",
            "family": "capitals",
            "elicitation": "cloze",
            "kind": "answer",
            "status": "ok",
            "correct": float(k < 9),
            "n_options": 4,
        }
        for k in range(10)
    ]
    rows.append({**rows[0], "status": "failed", "correct": float("nan")})  # left out
    rows.append({**rows[0], "kind": "predict"})  # not an answer
    table = calibration_table(pd.DataFrame(rows))
    (row,) = table.to_dict(orient="records")
    assert (row["n"], row["correct"], row["chance"]) == (10, 9, 0.25)
    assert row["above_chance"]
    assert row["ci_low"] > 0.25
    # 9 of 10 against 0.25: P(X >= 9) = 10 * 0.25^9 * 0.75 + 0.25^10
    assert row["p_value"] == pytest.approx(10 * 0.25**9 * 0.75 + 0.25**10)
