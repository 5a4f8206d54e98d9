"""The real MMLU-Pro data (31 LLMs x 12,032 items): figures its README states.

Skipped, with the reason, in a clone without ../shared/data.
"""

from __future__ import annotations

import numpy as np
import pytest

from monoculture import analyze, metrics
from monoculture.io import read_responses
from tests.conftest import MMLU, requires_mmlu

pytestmark = requires_mmlu


@pytest.fixture(scope="module")
def mmlu():  # type: ignore[no-untyped-def]
    return read_responses(
        MMLU / "responses.csv.gz", agents=MMLU / "agents.csv", items=MMLU / "items.csv.gz"
    )


def test_shape_and_coverage(mmlu) -> None:  # type: ignore[no-untyped-def]
    assert (mmlu.n_items, mmlu.n_agents) == (12032, 31)
    assert int(mmlu.complete_items.sum()) == 10300
    acc = metrics.accuracy(mmlu)
    assert acc.min() == pytest.approx(0.183, abs=0.001)
    assert acc.max() == pytest.approx(0.721, abs=0.001)


def test_readme_correlation_figures(mmlu) -> None:  # type: ignore[no-untyped-def]
    # README: mean pairwise correlation of error indicators 0.36 (range 0.13-0.67) on the
    # 10,300 fully covered items; same wrong letter 36 % of the time when both are wrong.
    phi = metrics.error_phi(mmlu, complete_only=True).to_numpy()
    upper = phi[np.triu_indices(31, k=1)]
    assert upper.mean() == pytest.approx(0.36, abs=0.005)
    assert upper.min() == pytest.approx(0.13, abs=0.005)
    assert upper.max() == pytest.approx(0.67, abs=0.005)
    same = metrics.same_wrong_rate(mmlu).to_numpy()[np.triu_indices(31, k=1)]
    assert same.mean() == pytest.approx(0.36, abs=0.01)


def test_thirty_one_models_behave_like_about_three(mmlu) -> None:  # type: ignore[no-untyped-def]
    result = analyze(mmlu, bootstrap=100, seed=0)
    effective = result.summary.effective_agents
    assert effective is not None
    assert effective.value is not None
    assert 2.0 < effective.value < 4.0
    assert effective.ci_low < effective.value < effective.ci_high  # type: ignore[operator]
    # README: "about 11 %" assuming 9 wrong options; with items.csv some items have fewer
    # options, so the uniform-error baseline is a little higher.
    assert 1 / 9 < result.summary.mean_same_wrong_independent < 0.14
    assert result.summary.value("systemic_failure_rate") > 1e5 * result.summary.value(
        "systemic_failure_rate_independent"
    )
    assert result.verdict.startswith("31 agents behave like")
