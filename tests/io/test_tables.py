"""Reading files: every format alike, attribute tables, unreadable files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses
from monoculture.io import read_responses, read_table
from tests.conftest import LONG


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
    # Catches probabilities attached to the wrong agent or option (rows reordered, columns
    # prob_<label> matched to labels by position, lists read against a sorted vocabulary):
    # the values, not just the shape, must come back in the cell they were written in. The
    # old column case also gave every row the first row's probabilities.
    given = {
        "a": [0.7, 0.1, 0.1, 0.1],
        "b": [0.2, 0.6, 0.15, 0.05],
        "c": [0.5, 0.0, 0.2, 0.3],
    }
    table = LONG.iloc[:3].copy()  # item 1, agents a, b, c
    table["probs"] = [json.dumps(given[agent]) for agent in table["agent"]]
    columns = LONG.iloc[:3].copy()
    for k, label in enumerate("ABCD"):
        columns[f"prob_{label}"] = [given[agent][k] for agent in columns["agent"]]
    # Columns written in another order than the labels, rows in another order than agents.
    columns = columns[[*LONG.columns, "prob_C", "prob_A", "prob_D", "prob_B"]].iloc[::-1]
    for r in (Responses.from_long(table), Responses.from_long(columns)):
        assert r.probs is not None
        assert r.probs.shape == (1, 3, 4)
        assert sorted(r.labels) == ["A", "B", "C", "D"]
        for position, agent in enumerate(r.agents):
            by_label = dict(zip(r.labels, r.probs[0, position], strict=True))
            assert [by_label[label] for label in "ABCD"] == given[str(agent)], agent
        # The answers still point at the labels they name (A, B, A for agents a, b, c).
        assert r.answers is not None
        written = {"a": "A", "b": "B", "c": "A"}
        assert [r.labels[code] for code in r.answers[0]] == [written[str(a)] for a in r.agents]


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


def test_directory_is_named_as_a_directory(tmp_path: Path) -> None:
    # Catches a directory given as the input file reported as "no such file".
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_table(tmp_path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_gzip_without_gz_in_the_name_is_named_as_gzip(tmp_path: Path, suffix: str) -> None:
    # Catches a gzip file named .csv failing with a UTF-8 decode error.
    path = tmp_path / f"responses{suffix}"
    path.write_bytes(gzip.compress(LONG.to_csv(index=False).encode()))
    with pytest.raises(InputError, match=r"gzip-compressed .* rename it to responses\S*\.gz"):
        read_table(path)


def test_every_path_is_checked_before_any_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches a missing --items file reported only after reading a large responses file.
    LONG.to_csv(tmp_path / "r.csv", index=False)

    def fail(path: object) -> None:
        raise AssertionError("read before every path was checked")

    monkeypatch.setattr("monoculture.io.tables.read_table", fail)
    with pytest.raises(InputError, match=r"items\.csv: no such file"):
        read_responses(tmp_path / "r.csv", items=tmp_path / "items.csv")


def test_scoring_options_are_passed_on(tmp_path: Path) -> None:
    # Catches read_responses dropping answer_normalization / strict_scoring.
    table = pd.DataFrame(
        {"item_id": [1, 1], "agent": ["a", "b"], "answer": ["paris", "Rome"], "gold": ["Paris"] * 2}
    )
    table.to_csv(tmp_path / "r.csv", index=False)
    as_written = read_responses(tmp_path / "r.csv", answer_normalization="none")
    folded = read_responses(tmp_path / "r.csv", answer_normalization="text")
    assert as_written.correct.tolist() == [[0, 0]]
    assert folded.correct.tolist() == [[1, 0]]
    table["correct"] = [0, 0]
    table.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(InputError, match="strict scoring"):
        read_responses(tmp_path / "r.csv", answer_normalization="text", strict_scoring=True)


def test_csv_ids_are_compared_as_written(tmp_path: Path) -> None:
    # Catches "7" and "7.0" in a CSV merging silently into one item (pandas reads both as
    # the number 7.0); by the rule, ids are text, and the surprise is noted.
    path = tmp_path / "ids.csv"
    path.write_text("item_id,agent,correct\n7,a,1\n7.0,b,0\n8,a,1\n8,b,1\n")
    r = read_responses(path)
    assert r.n_items == 3
    assert "written as the same number in different ways" in " ".join(r.input_summary.notes)
    plain = tmp_path / "plain.csv"
    plain.write_text("item_id,agent,correct\n7,a,1\n7,b,0\n8,a,1\n8,b,1\n")
    assert read_responses(plain).item_ids.tolist() == [7, 8]  # still shown as numbers
