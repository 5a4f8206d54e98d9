"""Building `Responses`: formats, round trips, attributes, and clear errors on bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses
from monoculture.io import read_responses, read_table

LONG = pd.DataFrame(
    {
        "item_id": [1, 1, 1, 2, 2, 2, 3, 3],
        "agent": ["a", "b", "c", "a", "b", "c", "a", "b"],
        "answer": ["A", "B", "A", "C", None, "C", "B", "B"],
        "gold": ["A", "A", "A", "C", "C", "C", "D", "D"],
        "category": ["x", "x", "x", "y", "y", "y", "x", "x"],
        "family": ["f", "g", "f", "f", "g", "f", "f", "g"],
        "latency": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
    }
)


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


def test_arrays_are_read_only() -> None:
    r = Responses.from_long(LONG)
    with pytest.raises(ValueError, match="read-only"):
        r.correct[0, 0] = 0


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv", ".jsonl", ".jsonl.gz", ".parquet"])
def test_every_file_format_reads_the_same(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"responses{suffix}"
    if suffix.startswith(".csv"):
        LONG.to_csv(path, index=False)
    elif suffix == ".tsv":
        LONG.to_csv(path, index=False, sep="\t")
    elif suffix.startswith(".jsonl"):
        LONG.to_json(path, orient="records", lines=True)
    else:
        LONG.to_parquet(path)
    r = read_responses(path)
    np.testing.assert_array_equal(r.correct, Responses.from_long(LONG).correct)


def test_probabilities_as_json_lists_and_as_columns(tmp_path: Path) -> None:
    table = LONG.iloc[:3].copy()
    table["probs"] = [
        json.dumps(p) for p in ([0.7, 0.1, 0.1, 0.1], [0.2, 0.6, 0.1, 0.1], [0.5, 0.5, 0.0, 0.0])
    ]
    r = Responses.from_long(table)
    assert r.probs is not None
    assert r.probs.shape == (1, 3, 4)
    columns = LONG.iloc[:3].copy()
    for k, label in enumerate("ABCD"):
        columns[f"prob_{label}"] = [
            [0.7, 0.1, 0.1, 0.1],
            [0.2, 0.6, 0.1, 0.1],
            [0.5, 0.5, 0.0, 0.0],
        ][0][k]
    r2 = Responses.from_long(columns)
    assert r2.probs is not None
    assert r2.probs.shape[2] == 4


def test_custom_column_names() -> None:
    renamed = LONG.rename(columns={"item_id": "q", "agent": "model", "answer": "pred"})
    r = Responses.from_long(renamed, item_col="q", agent_col="model", answer_col="pred")
    np.testing.assert_array_equal(r.correct, Responses.from_long(LONG).correct)


def test_agent_table_is_merged_and_mismatches_noted(tmp_path: Path) -> None:
    LONG.to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"agent": ["a", "b", "z"], "developer": ["X", "Y", "Z"]}).to_csv(
        tmp_path / "agents.csv", index=False
    )
    r = read_responses(tmp_path / "r.csv", agents=tmp_path / "agents.csv")
    assert r.agent_attrs.loc["a", "developer"] == "X"
    assert pd.isna(r.agent_attrs.loc["c", "developer"])
    notes = " ".join(r.input_summary.notes)
    assert "no responses" in notes
    assert "no row in the agent table" in notes


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
    "correct contradicts answers": (
        LONG.assign(correct=[0, 0, 1, 1, 0, 1, 0, 0]),
        r"contradicts answer == gold at data row",
    ),
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


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("item_id,agent,correct\n")
    with pytest.raises(InputError, match="no data rows"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot be read"):
        read_table(tmp_path / "bad.csv.gz")
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="unknown file type"):
        read_table(tmp_path / "x.xlsx")
    truncated = gzip.compress(LONG.to_csv(index=False).encode())[:40]
    (tmp_path / "cut.csv.gz").write_bytes(truncated)
    with pytest.raises(InputError, match="cannot be read"):
        read_table(tmp_path / "cut.csv.gz")


def test_from_arrays_checks_shapes_and_values() -> None:
    with pytest.raises(InputError, match="only 0, 1 or NaN"):
        Responses.from_arrays(correct=[[0, 2], [1, 0]])
    with pytest.raises(InputError, match="contradicts"):
        Responses.from_arrays(correct=[[1, 0]], answers=np.array([[1, 1]]), gold=np.array([1]))
    with pytest.raises(InputError, match="at least 2 agents"):
        Responses.from_arrays(correct=[[1], [0]])
    r = Responses.from_arrays(correct=[[1, np.nan], [0, 1]])
    assert r.observed.tolist() == [[True, False], [True, True]]
