"""Which reader a path needs, told by its content and layout (not only its name).

=================  ===========================================================
``inspect``        a zip with ``header.json`` or ``_journal/start.json`` (``.eval``), a
                   JSON document with an ``eval`` section (``.json``), or a folder of them
``lm_eval``        ``samples_<task>_<datetime>.jsonl`` files, or a folder holding them
``helm``           a folder with ``per_instance_stats.json`` or
                   ``display_predictions.json`` (a run), or a folder of runs
``monoculture``    a Parquet file written by `write_responses` (its metadata says so)
``long``           anything else: a CSV, TSV, JSONL or Parquet long table
=================  ===========================================================
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from monoculture.errors import InputError, ReadError
from monoculture.io._helm import PREDICTIONS_FILE, STATS_FILE
from monoculture.io._lm_eval import SAMPLES_NAME
from monoculture.io._saved import is_saved_responses

__all__ = ["FORMATS", "InputFormat", "detect_format"]

InputFormat = Literal["auto", "long", "inspect", "lm_eval", "helm", "monoculture"]
FORMATS: tuple[str, ...] = ("auto", "long", "inspect", "lm_eval", "helm", "monoculture")
_PEEK = 4096


def detect_format(
    paths: str | Path | Sequence[str | Path],
) -> Literal["long", "inspect", "lm_eval", "helm", "monoculture"]:
    """The format of ``paths`` (files or folders), which must all be of one format.

    Raises:
        ReadError: a path that does not exist, or a folder with nothing readable in it.
        InputError: paths of different formats.

    Example:
        >>> detect_format("tests/fixtures/helm")  # doctest: +SKIP
        'helm'
    """
    given = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    if not given:
        raise InputError("read_responses: give at least one path.")
    found = {path: _format_of(path) for path in given}
    kinds = sorted(set(found.values()))
    if len(kinds) > 1:
        listed = ", ".join(f"{path} ({kind})" for path, kind in found.items())
        raise InputError(
            f"the paths are of different formats: {listed}; read one format at a time, or "
            "force one with --format."
        )
    return found[given[0]]


def _format_of(path: Path) -> Literal["long", "inspect", "lm_eval", "helm", "monoculture"]:
    if not path.exists():
        raise ReadError(f"{path}: no such file or folder.")
    if path.is_dir():
        return _folder_format(path)
    name = path.name
    if SAMPLES_NAME.match(name):
        return "lm_eval"
    if name in (STATS_FILE, PREDICTIONS_FILE):
        return "helm"
    head = _head(path)
    if head.startswith(b"PK\x03\x04") or path.suffix == ".eval":
        return "inspect" if _is_eval_zip(path) or path.suffix == ".eval" else "long"
    if head.startswith(b"PAR1") and is_saved_responses(path):
        return "monoculture"
    if path.suffix == ".json" and _looks_like_inspect_json(head):
        return "inspect"
    return "long"


def _folder_format(path: Path) -> Literal["inspect", "lm_eval", "helm"]:
    if (path / STATS_FILE).is_file() or (path / PREDICTIONS_FILE).is_file():
        return "helm"
    for name in (STATS_FILE, PREDICTIONS_FILE):
        if next(path.rglob(name), None) is not None:
            return "helm"
    if any(SAMPLES_NAME.match(p.name) for p in path.rglob("samples_*.json*")):
        return "lm_eval"
    if next(path.rglob("*.eval"), None) is not None:
        return "inspect"
    if any(_looks_like_inspect_json(_head(p)) for p in path.rglob("*.json")):
        return "inspect"
    raise ReadError(
        f"{path}: is a directory, not a file, and holds no Inspect logs, lm-eval samples or "
        "HELM runs; give a table file (.csv, .tsv, .jsonl or .parquet, optionally .gz) or a "
        "folder of evaluation logs."
    )


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_PEEK)
    except OSError:
        return b""  # the reader reports why it cannot open the file


def _is_eval_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "header.json" in names or "_journal/start.json" in names


def _looks_like_inspect_json(head: bytes) -> bool:
    text = head.lstrip()
    return text.startswith(b"{") and b'"eval"' in text and b'"status"' in text
