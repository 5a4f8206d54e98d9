"""Read CSV, TSV, JSONL and Parquet tables (gzip too) into DataFrames and `Responses`."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from monoculture._labels import AnswerNormalization
from monoculture.errors import ReadError
from monoculture.responses import Responses

__all__ = ["check_table_path", "read_responses", "read_table"]

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


_GZIP_MAGIC = b"\x1f\x8b"


def check_table_path(path: str | Path) -> Path:
    """Check, before reading it, that ``path`` names a table file: it exists, is a file (not
    a directory), has a known extension, and is not gzip-compressed under a name without
    ``.gz`` (its first two bytes are checked). Returns it as a `Path`.

    Raises:
        ReadError: the rule it breaks, with the path and the fix.

    Example:
        >>> import tempfile
        >>> check_table_path(Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        monoculture.errors.ReadError: ...: is a directory, not a file; ...
    """
    path = Path(path)
    if path.is_dir():
        raise ReadError(
            f"{path}: is a directory, not a file; give the table file inside it "
            "(.csv, .tsv, .jsonl or .parquet, optionally .gz)."
        )
    if not path.is_file():
        raise ReadError(f"{path}: no such file.")
    _format_of(path)
    if path.suffix.lower() != ".gz" and _starts_with_gzip(path):
        raise ReadError(
            f"{path}: the file is gzip-compressed but its name does not end in .gz; rename "
            f"it to {path.name}.gz (or decompress it)."
        )
    return path


def _starts_with_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(2) == _GZIP_MAGIC
    except OSError:
        return False  # the reader below reports why it cannot be opened


def read_table(path: str | Path, *, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a table by its extension: ``.csv``, ``.tsv``, ``.jsonl``, ``.parquet`` (+ ``.gz``).

    ``text_columns`` of a CSV/TSV are read as written (ids: ``7`` and ``7.0`` stay two
    values instead of both becoming the number 7.0).

    Raises:
        ReadError: the file is missing, a directory, unreadable, of an unknown type,
            compressed without a ``.gz`` name, or empty.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("item_id,agent,correct\\n1,a,1\\n1,b,0\\n")
        >>> read_table(path).shape
        (2, 3)
    """
    path = check_table_path(path)
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
                dtype=dict.fromkeys(text_columns, str),
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
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
    **columns: Any,
) -> Responses:
    """Read a long table of responses, optionally with agent and item attribute tables.

    ``columns`` name the table's columns (``item_col``, ``agent_col``, ... as in
    `Responses.from_long`). The agent table needs the agent column; the item table needs
    the item column. ``answer_normalization`` and ``strict_scoring``: how ``answer`` is
    compared with ``gold``, and whether a ``correct`` that disagrees is refused, as in
    `monoculture.io.responses_from_long`.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("item_id,agent,correct\\n1,a,1\\n1,b,0\\n2,a,0\\n2,b,0\\n")
        >>> read_responses(path).correct.tolist()
        [[1, 0], [0, 0]]
    """
    # Every path is checked before the first is read, which may take a while.
    for given in (path, agents, items):
        if given is not None:
            check_table_path(given)
    ids = (columns.get("item_col", "item_id"), columns.get("agent_col", "agent"))
    responses = Responses.from_long(
        read_table(path, text_columns=ids),
        source=str(path),
        answer_normalization=answer_normalization,
        strict_scoring=strict_scoring,
        **columns,
    )
    if agents is not None:
        responses = responses.with_agent_attributes(
            read_table(agents), agent_col=columns.get("agent_col", "agent"), source=str(agents)
        )
    if items is not None:
        responses = responses.with_item_attributes(
            read_table(items), item_col=columns.get("item_col", "item_id"), source=str(items)
        )
    return responses
