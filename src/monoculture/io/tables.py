"""Read CSV, TSV, JSONL and Parquet tables (gzip too) into DataFrames and `Responses`."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monoculture._labels import AnswerNormalization
from monoculture.errors import InputError, ReadError
from monoculture.responses import Responses

if TYPE_CHECKING:
    from monoculture.io._detect import InputFormat

__all__ = ["check_responses_path", "check_table_path", "read_responses", "read_table"]

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


def check_responses_path(
    path: str | Path | Sequence[str | Path], *, format: InputFormat = "auto"
) -> str:
    """Check, before reading, the input of `read_responses`: every path exists, the paths
    are of one format (told from content, or ``format``), and a long table passes
    `check_table_path`. Returns the format (``long``, ``inspect``, ``lm_eval``, ``helm`` or
    ``monoculture``). Cheap: it reads a few bytes per file, and lists folders.

    Raises:
        InputError: the rule the input breaks, with the path and the fix.

    Example:
        >>> check_responses_path("tests/fixtures/helm")  # doctest: +SKIP
        'helm'
    """
    from monoculture.io._detect import FORMATS, detect_format

    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    if format not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}.")
    if format == "auto":
        kind: str = detect_format(paths)
    else:
        kind = format
        for given in paths:
            if not given.exists():
                raise ReadError(f"{given}: no such file or folder.")
    if kind == "long":
        for given in paths:
            check_table_path(given)
    return kind


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


_COLUMN_DEFAULTS = {
    "item_col": "item_id",
    "agent_col": "agent",
    "answer_col": "answer",
    "correct_col": "correct",
    "gold_col": "gold",
    "probs_col": "probs",
    "probs_prefix": "prob_",
    "confidence_col": "confidence",
}


def read_responses(
    path: str | Path | Sequence[str | Path],
    *,
    agents: str | Path | None = None,
    items: str | Path | None = None,
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
    format: InputFormat = "auto",
    scorer: str | None = None,
    metric: str | None = None,
    task: str | None = None,
    **columns: Any,
) -> Responses:
    """Read responses from a file, a folder or several paths, in any format monoculture
    reads, optionally with agent and item attribute tables.

    ``format`` (default ``"auto"``, told from content and layout; see
    `monoculture.io.detect_format`):

    * ``long``: a long table (CSV, TSV, JSONL, Parquet, + .gz); ``columns`` name its
      columns (``item_col``, ``agent_col``, ... as in `Responses.from_long`); several
      tables are stacked;
    * ``inspect``: Inspect AI logs (`read_inspect_logs`; ``scorer``, ``task``);
    * ``lm_eval``: lm-evaluation-harness samples (`read_lm_eval_samples`; ``metric``,
      ``task``);
    * ``helm``: HELM run folders (`read_helm_runs`; ``metric``, ``task``);
    * ``monoculture``: a `Responses` saved by `write_responses`.

    The agent table needs the agent column; the item table needs the item column.
    ``answer_normalization`` and ``strict_scoring``: how ``answer`` is compared with
    ``gold``, and whether a ``correct`` that disagrees is refused, as in
    `monoculture.io.responses_from_long`.

    Raises:
        InputError: a path that cannot be read, an option that does not apply to the
            format, or what the format's reader refuses; the message names the file.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("item_id,agent,correct\\n1,a,1\\n1,b,0\\n2,a,0\\n2,b,0\\n")
        >>> read_responses(path).correct.tolist()
        [[1, 0], [0, 0]]
    """
    from monoculture.io._detect import FORMATS, detect_format

    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    if format not in FORMATS:
        raise InputError(
            f"read_responses: `format` must be one of {', '.join(FORMATS)}; got {format!r}."
        )
    # Every path is checked before the first is read, which may take a while.
    for given in (agents, items):
        if given is not None:
            check_table_path(given)
    kind = detect_format(paths) if format == "auto" else format
    _check_options(kind, scorer=scorer, metric=metric, task=task, columns=columns)
    agent_col = columns.get("agent_col", "agent")
    item_col = columns.get("item_col", "item_id")
    responses = _read_format(
        kind,
        paths,
        answer_normalization=answer_normalization,
        strict_scoring=strict_scoring,
        scorer=scorer,
        metric=metric,
        task=task,
        columns=columns,
    )
    if agents is not None:
        responses = responses.with_agent_attributes(
            read_table(agents), agent_col=agent_col, source=str(agents)
        )
    if items is not None:
        responses = responses.with_item_attributes(
            read_table(items), item_col=item_col, source=str(items)
        )
    return responses


def _check_options(
    kind: str,
    *,
    scorer: str | None,
    metric: str | None,
    task: str | None,
    columns: dict[str, Any],
) -> None:
    unknown = sorted(set(columns) - set(_COLUMN_DEFAULTS))
    if unknown:
        raise InputError(
            f"read_responses: unknown option(s) {unknown}; the column options are "
            f"{sorted(_COLUMN_DEFAULTS)}."
        )
    given = {
        name: value
        for name, value in (("scorer", scorer), ("metric", metric), ("task", task))
        if value is not None
    }
    applies = {
        "long": set(),
        "monoculture": set(),
        "inspect": {"scorer", "task"},
        "lm_eval": {"metric", "task"},
        "helm": {"metric", "task"},
    }[kind]
    stray = sorted(set(given) - applies)
    if stray:
        hint = {
            "inspect": "Inspect logs take --scorer and --task",
            "lm_eval": "lm-eval samples take --metric and --task",
            "helm": "HELM runs take --metric and --task",
        }.get(kind, "long tables name their columns instead")
        raise InputError(
            f"--{stray[0]} does not apply to {kind} input; {hint}. Drop it, or force another "
            "--format."
        )
    if kind != "long":
        changed = sorted(name for name, value in columns.items() if value != _COLUMN_DEFAULTS[name])
        if changed:
            flags = ", ".join("--" + name.replace("_", "-") for name in changed)
            raise InputError(
                f"{flags} name(s) long-table columns and do not apply to {kind} input; drop "
                "them, or force --format long."
            )


def _read_format(
    kind: str,
    paths: list[Path],
    *,
    answer_normalization: AnswerNormalization,
    strict_scoring: bool,
    scorer: str | None,
    metric: str | None,
    task: str | None,
    columns: dict[str, Any],
) -> Responses:
    scoring: dict[str, Any] = {
        "answer_normalization": answer_normalization,
        "strict_scoring": strict_scoring,
    }
    if kind == "inspect":
        from monoculture.io._inspect import read_inspect_logs

        return read_inspect_logs(paths, scorer=scorer, task=task, **scoring)
    if kind == "lm_eval":
        from monoculture.io._lm_eval import read_lm_eval_samples

        return read_lm_eval_samples(paths, metric=metric, task=task, **scoring)
    if kind == "helm":
        from monoculture.io._helm import read_helm_runs

        return read_helm_runs(paths, metric=metric, task=task, **scoring)
    if kind == "monoculture":
        from monoculture.io._saved import read_saved_responses

        if len(paths) != 1:
            raise InputError(
                f"read_responses: give one saved Responses file; got {len(paths)} paths."
            )
        return read_saved_responses(paths[0])
    for given in paths:
        check_table_path(given)
    ids = (columns.get("item_col", "item_id"), columns.get("agent_col", "agent"))
    tables = [read_table(given, text_columns=ids) for given in paths]
    table = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    source = str(paths[0]) if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
    return Responses.from_long(table, source=source, **scoring, **columns)
