"""Saved `Responses` (Parquet with metadata): exact round trip and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture.errors import SchemaError
from monoculture.io import (
    detect_format,
    read_helm_runs,
    read_responses,
    read_saved_responses,
    write_responses,
)
from monoculture.io._saved import METADATA_KEY
from monoculture.responses import Responses
from tests.conftest import make_swarm
from tests.io._fixtures import HELM

ARRAYS = ["item_ids", "agents", "correct", "observed", "answers", "gold", "probs", "confidence"]


def _same(a: Responses, b: Responses) -> None:
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None, name
            continue
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    assert a.labels == b.labels
    assert a.item_attrs.reset_index(drop=True).equals(b.item_attrs.reset_index(drop=True))
    assert a.agent_attrs.reset_index(drop=True).equals(b.agent_attrs.reset_index(drop=True))
    assert a.cell_attrs.keys() == b.cell_attrs.keys()
    assert a.input_summary.to_dict() == b.input_summary.to_dict()


def test_round_trip_with_probabilities_and_gaps(tmp_path: Path) -> None:
    swarm = make_swarm()
    conf = np.where(swarm.observed, 0.7, np.nan)
    swarm = Responses.from_arrays(
        np.where(swarm.observed, swarm.correct, np.nan),
        answers=swarm.answers,
        gold=swarm.gold,
        probs=swarm.probs,
        confidence=conf,
        labels=swarm.labels,
        item_attrs=pd.DataFrame({"category": ["x", "y"] * 30}),
    )
    path = write_responses(swarm, tmp_path / "s.parquet")
    _same(swarm, read_saved_responses(path))
    assert detect_format(path) == "monoculture"
    _same(swarm, read_responses(path))


def test_round_trip_with_cell_and_agent_attributes(tmp_path: Path) -> None:
    runs = read_helm_runs(HELM)
    path = write_responses(runs, tmp_path / "h.parquet")
    back = read_saved_responses(path)
    _same(runs, back)
    assert np.array_equal(
        back.cell_attrs["repetition_accuracy"], runs.cell_attrs["repetition_accuracy"]
    )


def test_plain_parquet_is_a_long_table_not_a_saved_responses(tmp_path: Path) -> None:
    path = tmp_path / "long.parquet"
    pd.DataFrame({"item_id": [1, 1], "agent": ["a", "b"], "correct": [1, 0]}).to_parquet(path)
    assert detect_format(path) == "long"
    with pytest.raises(SchemaError, match="not a saved monoculture Responses"):
        read_saved_responses(path)


def test_newer_version_is_refused(tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    path = write_responses(make_swarm(), tmp_path / "s.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    meta["version"] = 99
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: json.dumps(meta)}), path)
    with pytest.raises(SchemaError, match="version 99"):
        read_saved_responses(path)
