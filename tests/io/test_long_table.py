"""Long tables to `Responses` and back: columns, duplicates, gold, probabilities, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses, metrics
from monoculture.io import read_responses
from tests.conftest import LONG


def test_from_long_derives_correctness_and_sorts_columns_into_attributes() -> None:
    r = Responses.from_long(LONG)
    assert (r.n_items, r.n_agents) == (3, 3)
    assert r.labels == ("A", "B", "C", "D")
    np.testing.assert_array_equal(r.correct, [[1, 0, 1], [1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(r.observed[:, 2], [True, True, False])
    assert r.answers is not None
    assert r.answers[1, 1] == -1
    assert list(r.item_attrs.columns) == ["category"]
    assert list(r.agent_attrs.columns) == ["family"]
    assert list(r.cell_attrs) == ["latency"]
    assert r.input_summary.rows_used == 8


def test_round_trip_through_to_long() -> None:
    r = Responses.from_long(LONG)
    again = Responses.from_long(r.to_long())
    for name in ("correct", "observed", "answers", "gold"):
        np.testing.assert_array_equal(getattr(again, name), getattr(r, name))
    assert again.labels == r.labels
    pd.testing.assert_frame_equal(again.agent_attrs, r.agent_attrs)


def test_custom_column_names() -> None:
    renamed = LONG.rename(columns={"item_id": "q", "agent": "model", "answer": "pred"})
    r = Responses.from_long(renamed, item_col="q", agent_col="model", answer_col="pred")
    np.testing.assert_array_equal(r.correct, Responses.from_long(LONG).correct)


def test_exact_duplicates_are_dropped_and_counted() -> None:
    doubled = pd.concat([LONG, LONG.iloc[:2]])
    r = Responses.from_long(doubled)
    assert r.input_summary.left_out == {"exact duplicate (item, agent) rows": 2}
    assert r.input_summary.rows_read == 10
    assert r.input_summary.rows_used == 8


def test_conflicting_gold_between_rows_is_noted_not_fatal() -> None:
    table = LONG.copy()
    table.loc[1, "gold"] = "B"  # agent b was scored against another answer key
    r = Responses.from_long(table)
    assert r.correct[0, 1] == 1
    assert r.gold is not None
    assert r.gold[0] == -1
    assert "different 'gold'" in " ".join(r.input_summary.notes)


BAD_CASES = {
    "missing column": (LONG.drop(columns=["agent"]), r"missing required column.*agent"),
    "disagreeing duplicates": (
        pd.concat([LONG, LONG.iloc[:1].assign(answer="D")]),
        r"appear on several rows",
    ),
    "correct not 0/1": (LONG.assign(correct=[1, 0, 2, 1, 0, 1, 0, 0]), r"must be 0 or 1"),
    "negative probabilities": (LONG.assign(probs=["[1.2, -0.2, 0, 0]"] * 8), r"must be >= 0"),
    "probabilities not summing to 1": (
        LONG.assign(probs=["[0.5, 0.4, 0, 0]"] * 8),
        r"must sum to 1",
    ),
    "one agent": (LONG[LONG.agent == "a"], r"at least 2 agents"),
    "empty": (LONG.iloc[:0], r"no rows"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_gets_a_clear_error(case: str) -> None:
    table, pattern = BAD_CASES[case]
    with pytest.raises(InputError, match=pattern):
        Responses.from_long(table, source="input.csv")


def test_error_names_the_rows() -> None:
    with pytest.raises(InputError, match=r"input.csv: .*data row\(s\) 3 "):
        Responses.from_long(LONG.assign(correct=[1, 0, 7, 1, 0, 1, 0, 0]), source="input.csv")


# Issue 9, item 5: `correct` is the authority when given.
FREE_FORM = pd.DataFrame(
    {
        "item_id": [1, 1, 2, 2, 3, 3, 4, 4],
        "agent": ["a", "b"] * 4,
        "answer": ["75.00", "75", "2,125", "2125", "7", "8", "12", "12.0"],
        "gold": ["75", "75", "2125", "2125", "7", "7", "11", "11"],
        "correct": [1, 1, 1, 1, 1, 0, 1, 0],  # the grader accepted a's 12 on item 4
    }
)


def test_correct_is_used_when_it_disagrees_and_the_count_is_noted() -> None:
    # Catches the old refusal (and its advice to drop `correct`, which would score the
    # graded answers wrong).
    r = Responses.from_long(FREE_FORM)
    assert r.correct.tolist() == [[1, 1], [1, 1], [1, 0], [1, 0]]
    notes = " ".join(r.input_summary.notes)
    assert "1 scored cell(s) have a `correct` value that disagrees" in notes
    with pytest.raises(InputError, match=r"contradicts answer == gold at data row\(s\) 7 "):
        Responses.from_long(FREE_FORM, strict_scoring=True)


def test_numbers_are_compared_as_numbers_when_answers_are_numeric() -> None:
    # Catches string equality on free-form numbers: "75.00" vs "75" derived as wrong, and
    # "12" and "12.0" counted as different wrong answers by the same-wrong metrics.
    table = FREE_FORM.drop(columns=["correct"])
    r = Responses.from_long(table)
    assert r.input_summary.answer_normalization == "number"
    assert r.correct[:2].tolist() == [[1, 1], [1, 1]]
    assert r.answers is not None
    assert r.answers[3, 0] == r.answers[3, 1]  # 12 and 12.0: one wrong answer
    assert float(metrics.same_wrong_rate(r).iloc[0, 1]) == 1.0
    exact = Responses.from_long(table, answer_normalization="none")
    assert exact.correct[0].tolist() == [0, 1]
    assert float(metrics.same_wrong_rate(exact).iloc[0, 1]) == 0.0  # "12" != "12.0" here


@pytest.mark.parametrize(
    ("answers", "gold", "mode"),
    [
        (["A", "B", "C", "A"], ["A", "A", "C", "C"], "none"),
        (["Paris", "paris ", "The Cat", "the  cat"], ["Paris"] * 2 + ["the cat"] * 2, "text"),
        (["['a', 'b']", '["a", "b"]', "x", "y"], ["['a', 'b']"] * 2 + ["x x"] * 2, "text"),
    ],
    ids=["letters", "case-and-spacing", "quotes"],
)
def test_auto_normalization_is_chosen_from_the_labels(
    answers: list[str], gold: list[str], mode: str
) -> None:
    # Catches a default that folds option letters (it must not) or leaves free text exact.
    table = pd.DataFrame(
        {"item_id": [1, 1, 2, 2], "agent": ["a", "b"] * 2, "answer": answers, "gold": gold}
    )
    r = Responses.from_long(table)
    assert r.input_summary.answer_normalization == mode
    if mode == "text":
        assert r.correct[0].tolist() == [1, 1]


# Issue 9, item 3: one item is one item.
def test_ids_given_as_number_and_as_text_are_one_id_and_noted(tmp_path: Path) -> None:
    # Catches JSONL `"item_id": 1` and `"item_id": "1"` silently becoming two items.
    rows = [
        {"item_id": 1, "agent": "a", "correct": 1},
        {"item_id": "1", "agent": "b", "correct": 0},
        {"item_id": 2, "agent": "a", "correct": 1},
        {"item_id": 2, "agent": "b", "correct": 1},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows))
    r = read_responses(path)
    assert r.n_items == 2
    assert r.observed.all()
    assert "compared as text, so 1 and '1' are one id" in " ".join(r.input_summary.notes)


def test_ids_with_surrounding_spaces_are_stripped_and_said() -> None:
    # Catches 'a ' silently merged into 'a' and then reported only as a disagreeing duplicate.
    table = pd.DataFrame({"item_id": [1, 1, 2, 2], "agent": ["a ", "b", "a", "b"], "correct": 1})
    r = Responses.from_long(table)
    assert r.agents.tolist() == ["a", "b"]
    assert "'a ' and 'a' are one agent" in " ".join(r.input_summary.notes)
    clash = pd.DataFrame({"item_id": [1, 1, 1], "agent": ["a", "a ", "b"], "correct": [1, 0, 1]})
    with pytest.raises(InputError, match="compared without surrounding spaces"):
        Responses.from_long(clash)


def test_a_column_constant_over_the_table_is_also_an_agent_attribute() -> None:
    # Catches a one-model swarm whose `model` column lands only among the item attributes,
    # so that a policy's min_models finds no model at all instead of one.
    table = pd.DataFrame(
        {
            "item_id": [1, 1, 2, 2],
            "agent": ["a", "b", "a", "b"],
            "correct": [1, 0, 0, 1],
            "model": ["m"] * 4,
            "family": ["x", "y", "x", "y"],
        }
    )
    responses = Responses.from_long(table)
    assert responses.agent_attrs["model"].tolist() == ["m", "m"]
    assert responses.agent_attrs["family"].tolist() == ["x", "y"]
    assert "family" not in responses.item_attrs.columns
