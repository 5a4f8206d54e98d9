"""The README's aggregation figures on MMLU-Pro (31 LLMs x 12,032 items), 50/50 split, seed 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from monoculture.aggregate import compare_aggregators, compare_selection
from monoculture.io import read_responses
from tests.conftest import MMLU, requires_mmlu


@pytest.fixture(scope="module")
def mmlu():  # type: ignore[no-untyped-def]
    return read_responses(MMLU / "responses.csv.gz")


@requires_mmlu
def test_readme_aggregation_table(mmlu) -> None:  # type: ignore[no-untyped-def]
    # Catches a drift of the published table (README) and a covariance weighting that no
    # longer beats plurality: the gain must exceed 4 paired standard errors.
    comparison = compare_aggregators(mmlu, train_share=0.5, seed=0)
    accuracy = {m.name: m.accuracy for m in comparison.methods}
    readme = {
        "plurality": 0.629,
        "weighted": 0.680,
        "dawid_skene": 0.686,
        "one_coin": 0.674,
        "cluster": 0.669,
        "covariance": 0.751,
    }
    for name, value in readme.items():
        assert accuracy[name] == pytest.approx(value, abs=0.0005), name
    by_name = {m.name: m.decisions.correct for m in comparison.methods}
    difference = by_name["covariance"] - by_name["plurality"]
    difference = difference[np.isfinite(difference)]
    se = difference.std(ddof=1) / math.sqrt(len(difference))
    assert difference.mean() > 4 * se


@requires_mmlu
def test_readme_selection(mmlu) -> None:  # type: ignore[no-untyped-def]
    # Catches a selection that ignores the objective: minimising all-wrong items picks a
    # less correlated set than the five most accurate models.
    result = compare_selection(mmlu, 5, objective="systemic_failure", seed=0)
    rows = {row["set"]: row for row in result.rows}
    assert rows["diverse"]["mean_error_consistency"] == pytest.approx(0.340, abs=0.0005)
    assert rows["top_k"]["mean_error_consistency"] == pytest.approx(0.480, abs=0.0005)
    assert rows["diverse"]["systemic_failure"] == pytest.approx(0.1182, abs=0.00005)
