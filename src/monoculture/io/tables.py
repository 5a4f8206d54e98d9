"""Read CSV, TSV, JSONL and Parquet tables (gzip too) into DataFrames and `Responses`."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from monoculture.errors import ReadError
from monoculture.responses import Responses

__all__ = ["read_responses", "read_table"]

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _FORMATS:
        return _FORMATS[suffixes[-1]]
    raise ReadError(
        f"{path}: unknown file type {''.join(path.suffixes) or '(no extension)'}; use .csv, "
        ".tsv, .jsonl or .parquet, optionally followed by .gz."
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table by its extension: ``.csv``, ``.tsv``, ``.jsonl``, ``.parquet`` (+ ``.gz``).

    Raises:
        ReadError: the file is missing, unreadable, of an unknown type, or empty.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: no such file.")
    kind = _format_of(path)
    try:
        if kind == "parquet":
            table = pd.read_parquet(path)
        elif kind == "jsonl":
            table = pd.read_json(path, lines=True, compression="infer", dtype=False)
        else:
            table = pd.read_csv(
                path,
                sep="\t" if kind == "tsv" else ",",
                compression="infer",
                keep_default_na=False,
                na_values=[""],
                low_memory=False,
            )
    except pd.errors.EmptyDataError:
        raise ReadError(
            f"{path}: the file is empty; it needs a header row and data rows."
        ) from None
    except (OSError, ValueError, UnicodeDecodeError, gzip.BadGzipFile) as error:
        raise ReadError(
            f"{path}: cannot be read as {kind}: {error}. Check the file type and that it is "
            "not truncated."
        ) from None
    except Exception as error:  # pyarrow and parser errors have no common base
        raise ReadError(f"{path}: cannot be read as {kind}: {error}.") from None
    if len(table) == 0:
        raise ReadError(f"{path}: the file has a header but no data rows.")
    return table


def read_responses(
    path: str | Path,
    *,
    agents: str | Path | None = None,
    items: str | Path | None = None,
    **columns: Any,
) -> Responses:
    """Read a long table of responses, optionally with agent and item attribute tables.

    ``columns`` are passed to `Responses.from_long` (``item_col``, ``agent_col``, ...).
    The agent table needs the agent column; the item table needs the item column.
    """
    table = read_table(path)
    responses = Responses.from_long(table, source=str(path), **columns)
    if agents is not None:
        agent_table = read_table(agents)
        responses = responses.with_agent_attributes(
            agent_table, agent_col=columns.get("agent_col", "agent")
        )
    if items is not None:
        responses = _with_item_table(
            responses, read_table(items), items, columns.get("item_col", "item_id")
        )
    return responses


def _with_item_table(
    responses: Responses, table: pd.DataFrame, path: str | Path, item_col: str
) -> Responses:
    if item_col not in table.columns:
        raise ReadError(
            f"{path}: no column {item_col!r} (columns: {list(table.columns)}); the item table "
            "needs the same item column as the responses (--item-col)."
        )
    if table[item_col].duplicated().any():
        raise ReadError(f"{path}: item ids listed more than once; keep one row per item.")
    attrs = table.set_index(item_col)
    # Match ids by text so that 70 and "70" are the same item.
    attrs.index = attrs.index.astype(str)
    merged = attrs.reindex([str(i) for i in responses.item_ids])
    merged.index = pd.Index(responses.item_ids)
    for column in responses.item_attrs.columns:
        if column not in merged.columns:
            merged[column] = responses.item_attrs[column].to_numpy()
    unmatched = int(merged.isna().all(axis=1).sum()) if len(merged.columns) else 0
    notes = list(responses.input_summary.notes)
    if unmatched:
        notes.append(f"{unmatched} item(s) have no row in {path}.")
    return replace(
        responses,
        item_attrs=merged,
        input_summary=replace(responses.input_summary, notes=tuple(notes)),
    )
