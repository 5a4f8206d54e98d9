"""`Responses` saved by monoculture: one Parquet file that reads back exactly.

Layout (version 1)
------------------
Rows: one per observed (item, agent) cell, in item-major order, with the columns

==================  ==========================================================
``item``            int32 position of the item in ``items`` (metadata)
``agent``           int32 position of the agent in ``agents`` (metadata)
``correct``         int8, 1 = right, 0 = wrong
``answer``          int32 code into ``labels``, -1 = no answer (when answers exist)
``confidence``      float64 in [0, 1], null where absent (when confidence exists)
``probs``           list<float64> of length ``n_options`` (when probabilities exist)
``cell.<name>``     one column per cell attribute
==================  ==========================================================

Schema metadata, key ``monoculture.responses``: a JSON object with ``version`` (1),
``items`` (ids, numbers or text), ``agents``, ``labels``, ``gold`` (codes, or null),
``item_attrs`` and ``agent_attrs`` (``{"columns": [...], "data": [[row], ...]}``, values
as JSON: numbers, text, booleans, null), and ``input_summary`` (as in an analysis JSON).
Other Parquet readers see the cells as a plain table; `read_saved_responses` rebuilds the
`Responses` through `Responses.from_arrays`, which checks it again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monoculture.errors import ReadError, SchemaError
from monoculture.responses import InputSummary, Responses

__all__ = ["METADATA_KEY", "is_saved_responses", "read_saved_responses", "write_responses"]

METADATA_KEY = b"monoculture.responses"
VERSION = 1
_PARQUET_MAGIC = b"PAR1"


def write_responses(responses: Responses, path: str | Path) -> Path:
    """Save ``responses`` as one Parquet file (layout in the module docstring); written to a
    temporary name and renamed, so a reader never sees half a file. Returns the path.

    Example:
        >>> import tempfile
        >>> r = Responses.from_arrays(correct=[[1, 0], [0, 1]], agents=["a", "b"])
        >>> path = write_responses(r, Path(tempfile.mkdtemp()) / "r.parquet")
        >>> read_saved_responses(path).correct.tolist()
        [[1, 0], [0, 1]]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    item_pos, agent_pos = np.nonzero(responses.observed)
    columns: dict[str, Any] = {
        "item": pa.array(item_pos.astype(np.int32)),
        "agent": pa.array(agent_pos.astype(np.int32)),
        "correct": pa.array(responses.correct[item_pos, agent_pos].astype(np.int8)),
    }
    if responses.answers is not None:
        columns["answer"] = pa.array(responses.answers[item_pos, agent_pos].astype(np.int32))
    if responses.confidence is not None:
        values = responses.confidence[item_pos, agent_pos]
        columns["confidence"] = pa.array(values, mask=np.isnan(values))
    if responses.probs is not None:
        cube = responses.probs[item_pos, agent_pos]
        width = cube.shape[1]
        columns["probs"] = pa.FixedSizeListArray.from_arrays(pa.array(cube.reshape(-1)), width)
    for name, values in responses.cell_attrs.items():
        columns[f"cell.{name}"] = _arrow_column(values[item_pos, agent_pos])
    meta = {
        "version": VERSION,
        "items": [_json_value(v) for v in responses.item_ids.tolist()],
        "agents": [str(a) for a in responses.agents.tolist()],
        "labels": list(responses.labels),
        "gold": None if responses.gold is None else responses.gold.tolist(),
        "answers": responses.answers is not None,
        "item_attrs": _frame_json(responses.item_attrs),
        "agent_attrs": _frame_json(responses.agent_attrs),
        "input_summary": responses.input_summary.to_dict(),
    }
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(meta)})
    temporary = path.with_name(f".{path.name}.partial")
    try:
        pq.write_table(table, temporary)
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ReadError(f"{path}: cannot be written: {error.strerror}.") from None
    return path


def is_saved_responses(path: Path) -> bool:
    """Whether ``path`` is a Parquet file written by `write_responses` (its metadata is
    checked, not its name)."""
    try:
        with path.open("rb") as handle:
            if handle.read(4) != _PARQUET_MAGIC:
                return False
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # pyarrow raises several unrelated types for a bad footer
        return False
    return METADATA_KEY in metadata


def read_saved_responses(path: str | Path) -> Responses:
    """Read a `Responses` saved by `write_responses`.

    Raises:
        ReadError: the file cannot be read as Parquet.
        SchemaError: it is not a saved `Responses` or is of a newer layout version.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several unrelated types
        raise ReadError(f"{path}: cannot be read as Parquet: {error}.") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise SchemaError(
            f"{path}: is a Parquet file but not a saved monoculture Responses (no "
            f"{METADATA_KEY.decode()} metadata); read it as a long table (--format long)."
        )
    meta = json.loads(raw)
    if meta.get("version") != VERSION:
        raise SchemaError(
            f"{path}: saved Responses layout version {meta.get('version')!r}; this release "
            f"reads version {VERSION}. Upgrade monoculture."
        )
    items = meta["items"]
    agents = meta["agents"]
    shape = (len(items), len(agents))
    rows = table.column("item").to_numpy()
    cols = table.column("agent").to_numpy()
    correct = np.full(shape, np.nan)
    correct[rows, cols] = table.column("correct").to_numpy()
    answers = None
    if "answer" in table.column_names:
        answers = np.full(shape, -1, dtype=np.int64)
        answers[rows, cols] = table.column("answer").to_numpy()
    confidence = None
    if "confidence" in table.column_names:
        confidence = np.full(shape, np.nan)
        confidence[rows, cols] = table.column("confidence").to_numpy(zero_copy_only=False)
    probs = None
    if "probs" in table.column_names:
        column = table.column("probs").combine_chunks()
        width = column.type.list_size
        probs = np.full((*shape, width), np.nan)
        probs[rows, cols] = column.flatten().to_numpy().reshape(-1, width)
    cell_attrs = {}
    for name in table.column_names:
        if name.startswith("cell."):
            matrix = np.full(shape, None, dtype=object)
            matrix[rows, cols] = table.column(name).to_pylist()
            cell_attrs[name[len("cell.") :]] = matrix
    summary = meta.get("input_summary") or {}
    return Responses.from_arrays(
        correct,
        answers=answers,
        gold=None if meta.get("gold") is None else np.asarray(meta["gold"], dtype=np.int64),
        probs=probs,
        confidence=confidence,
        agents=agents,
        items=np.asarray(items, dtype=object if _mixed(items) else None),
        labels=meta.get("labels") or None,
        item_attrs=_frame(meta.get("item_attrs")),
        agent_attrs=_frame(meta.get("agent_attrs")),
        cell_attrs=cell_attrs,
        input_summary=InputSummary(
            source=str(summary.get("source", path)),
            rows_read=int(summary.get("rows_read", len(rows))),
            rows_used=int(summary.get("rows_used", len(rows))),
            left_out=summary.get("left_out", {}),
            notes=tuple(summary.get("notes", ())),
            answer_normalization=summary.get("answer_normalization"),
        ),
    )


def _mixed(items: list[Any]) -> bool:
    return len({type(v) for v in items}) > 1 or not items or isinstance(items[0], str)


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "data": [[_json_value(v) for v in row] for row in frame.itertuples(index=False)],
    }


def _frame(document: dict[str, Any] | None) -> pd.DataFrame | None:
    if not document or not document.get("columns"):
        return None
    return pd.DataFrame(document["data"], columns=document["columns"])


def _arrow_column(values: np.ndarray) -> Any:
    import pyarrow as pa

    try:
        return pa.array(values.tolist())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values.tolist()])
