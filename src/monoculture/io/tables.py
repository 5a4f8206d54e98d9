"""Read CSV, TSV, JSONL and Parquet tables (gzip too) into DataFrames and `Responses`."""

from __future__ import annotations

import gzip
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

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("item_id,agent,correct\\n1,a,1\\n1,b,0\\n")
        >>> read_table(path).shape
        (2, 3)
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

    ``columns`` name the table's columns (``item_col``, ``agent_col``, ... as in
    `Responses.from_long`). The agent table needs the agent column; the item table needs
    the item column.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("item_id,agent,correct\\n1,a,1\\n1,b,0\\n2,a,0\\n2,b,0\\n")
        >>> read_responses(path).correct.tolist()
        [[1, 0], [0, 0]]
    """
    responses = Responses.from_long(read_table(path), source=str(path), **columns)
    if agents is not None:
        responses = responses.with_agent_attributes(
            read_table(agents), agent_col=columns.get("agent_col", "agent"), source=str(agents)
        )
    if items is not None:
        responses = responses.with_item_attributes(
            read_table(items), item_col=columns.get("item_col", "item_id"), source=str(items)
        )
    return responses
