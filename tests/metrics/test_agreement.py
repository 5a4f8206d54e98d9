"""Swarm agreement (Fleiss, Krippendorff, ICC, effective agents) against references."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from monoculture import Responses, metrics
from tests.conftest import make_swarm


def test_fleiss_kappa_equals_statsmodels(complete_swarm: Responses) -> None:
    assert complete_swarm.answers is not None
    rows = (complete_swarm.answers >= 0).all(axis=1)
    answers = complete_swarm.answers[rows]
    table = np.stack([(answers == k).sum(axis=1) for k in range(4)], axis=1)
    expected = sm_fleiss_kappa(table, method="fleiss")
    assert metrics.fleiss_kappa(complete_swarm) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_equals_the_krippendorff_package(swarm: Responses) -> None:
    assert swarm.answers is not None
    data = np.where(swarm.observed & (swarm.answers >= 0), swarm.answers, np.nan).T
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert metrics.krippendorff_alpha(swarm) == pytest.approx(expected, abs=1e-12)


def _icc_naive(errors: np.ndarray) -> float:
    """ICC(3,1) from the textbook two-way ANOVA, with explicit loops."""
    n, k = errors.shape
    grand = errors.mean()
    ss_rows = sum(k * (errors[i].mean() - grand) ** 2 for i in range(n))
    ss_cols = sum(n * (errors[:, j].mean() - grand) ** 2 for j in range(k))
    ss_total = sum((errors[i, j] - grand) ** 2 for i in range(n) for j in range(k))
    ss_err = ss_total - ss_rows - ss_cols
    ms_rows, ms_err = ss_rows / (n - 1), ss_err / ((n - 1) * (k - 1))
    return (ms_rows - ms_err) / (ms_rows + (k - 1) * ms_err)


def test_icc_equals_the_anova_formula(swarm: Responses) -> None:
    complete = swarm.complete_only()
    assert metrics.icc(swarm) == pytest.approx(_icc_naive(complete.errors), abs=1e-12)
    n = swarm.n_agents
    assert metrics.effective_agents(swarm) == pytest.approx(
        n / (1 + (n - 1) * _icc_naive(complete.errors)), abs=1e-12
    )


def test_independent_agents_count_as_all_of_them() -> None:
    rng = np.random.default_rng(7)
    correct = (rng.random((20000, 8)) < 0.6).astype(float)
    r = Responses.from_arrays(correct=correct)
    assert metrics.icc(r) == pytest.approx(0.0, abs=0.01)
    assert metrics.effective_agents(r) == pytest.approx(8.0, rel=0.08)


def test_a_swarm_of_clones_is_one_agent() -> None:
    base = make_swarm(seed=5, missing=0.0)
    clones = np.repeat(base.correct[:, :1], 6, axis=1).astype(float)
    r = Responses.from_arrays(correct=clones)
    assert metrics.effective_agents(r) == pytest.approx(1.0, abs=1e-12)
    assert metrics.systemic_failure_rate(r) == pytest.approx(1 - clones[:, 0].mean())
