"""Pairwise metrics against scikit-learn, statsmodels, naive loops and hand-worked cases."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from monoculture import Responses, metrics
from monoculture.errors import UndefinedMetricWarning


def _shared(responses: Responses, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    both = responses.observed[:, i] & responses.observed[:, j]
    return responses.correct[both, i].astype(int), responses.correct[both, j].astype(int)


def test_error_consistency_equals_sklearn_on_shared_items(swarm: Responses) -> None:
    kappa = metrics.error_consistency(swarm).to_numpy()
    for i, j in itertools.combinations(range(swarm.n_agents), 2):
        a, b = _shared(swarm, i, j)
        assert kappa[i, j] == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
        assert kappa[j, i] == pytest.approx(kappa[i, j], abs=1e-15)


def test_hand_worked_kappa() -> None:
    # Agent 0: R W R W; agent 1: R W W W. Both right 1, both wrong 2, disagree 1.
    # c_obs = 3/4; accuracies 1/2 and 1/4; c_exp = 1/8 + 3/8 = 1/2; kappa = (3/4-1/2)/(1/2) = 1/2.
    r = Responses.from_arrays(correct=[[1, 1], [0, 0], [1, 0], [0, 0]])
    assert metrics.error_consistency(r).iloc[0, 1] == pytest.approx(0.5, abs=1e-15)
    # Double fault 2/4; P(1 wrong | 0 wrong) = 2/2; P(0 wrong | 1 wrong) = 2/3.
    assert metrics.double_fault(r).iloc[0, 1] == pytest.approx(0.5)
    assert metrics.conditional_failure(r).iloc[0, 1] == pytest.approx(1.0)
    assert metrics.conditional_failure(r).iloc[1, 0] == pytest.approx(2 / 3)
    # Yule's Q: both wrong 2, both right 1, i-only-wrong 0, j-only-wrong 1 -> (2-0)/(2+0) = 1.
    assert metrics.yules_q(r).iloc[0, 1] == pytest.approx(1.0)
    # kappa_max for accuracies 1/2, 1/4: c_max = 1/4 + 1/2 = 3/4 -> kappa_max = 1/2.
    low, high = metrics.kappa_bounds(r)
    assert high.iloc[0, 1] == pytest.approx(0.5)
    assert metrics.normalized_error_consistency(r).iloc[0, 1] == pytest.approx(1.0)
    # kappa_min: c_min = 1 - (min(1/2, 3/4) + min(1/2, 1/4)) = 1/4 -> (1/4-1/2)/(1/2) = -1/2.
    assert low.iloc[0, 1] == pytest.approx(-0.5)


def _naive(responses: Responses) -> dict[str, np.ndarray]:
    """Every pairwise metric from explicit loops over pairs and items."""
    n = responses.n_agents
    out = {
        name: np.full((n, n), np.nan)
        for name in (
            "double_fault",
            "conditional_failure",
            "yules_q",
            "error_phi",
            "kappa_min",
            "kappa_max",
            "copy_probability",
            "same_wrong_rate",
            "pvalue",
        )
    }
    for i in range(n):
        for j in range(n):
            nn = a = b = d = same = both_answered = 0
            for x in range(responses.n_items):
                if not (responses.observed[x, i] and responses.observed[x, j]):
                    continue
                wi, wj = responses.correct[x, i] == 0, responses.correct[x, j] == 0
                nn += 1
                a += wi
                b += wj
                d += wi and wj
                ai, aj = responses.answers[x, i], responses.answers[x, j]
                if wi and wj and ai >= 0 and aj >= 0:
                    both_answered += 1
                    same += ai == aj
            pi, pj = 1 - a / nn, 1 - b / nn
            exp = pi * pj + (1 - pi) * (1 - pj)
            kappa = ((nn - a - b + 2 * d) / nn - exp) / (1 - exp)
            out["double_fault"][i, j] = d / nn
            out["conditional_failure"][i, j] = d / a if a else np.nan
            rr = nn - a - b + d
            den = d * rr + (a - d) * (b - d)
            out["yules_q"][i, j] = (d * rr - (a - d) * (b - d)) / den if den else np.nan
            sp = a * (nn - a) * b * (nn - b)
            out["error_phi"][i, j] = (d * nn - a * b) / np.sqrt(sp) if sp else np.nan
            out["kappa_max"][i, j] = (min(pi, pj) + min(1 - pi, 1 - pj) - exp) / (1 - exp)
            out["kappa_min"][i, j] = (1 - min(pi, 1 - pj) - min(1 - pi, pj) - exp) / (1 - exp)
            src = max(pi, pj)
            out["copy_probability"][i, j] = kappa * (1 - exp) / (1 - src**2 - (1 - src) ** 2)
            out["same_wrong_rate"][i, j] = same / both_answered if both_answered else np.nan
            if i != j:
                a_ij, b_ij = _shared(responses, i, j)
                table = np.array(
                    [[np.sum((a_ij == u) & (b_ij == v)) for v in (0, 1)] for u in (0, 1)]
                )
                out["pvalue"][i, j] = cohens_kappa(table).pvalue_two_sided
    return out


def test_all_pairwise_matrices_match_naive_loops(swarm: Responses) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fast = metrics.pairwise_metrics(swarm)
    naive = _naive(swarm)
    for name in (
        "double_fault",
        "conditional_failure",
        "yules_q",
        "error_phi",
        "kappa_min",
        "kappa_max",
        "copy_probability",
        "same_wrong_rate",
    ):
        np.testing.assert_allclose(
            fast[name].to_numpy(), naive[name], atol=1e-12, rtol=0, err_msg=name
        )
    off = ~np.eye(swarm.n_agents, dtype=bool)
    np.testing.assert_allclose(
        fast["error_consistency_pvalue"].to_numpy()[off],
        naive["pvalue"][off],
        rtol=1e-9,
        atol=1e-300,
    )


def test_public_functions_equal_pairwise_metrics(swarm: Responses) -> None:
    every = metrics.pairwise_metrics(swarm)
    for name in (
        "error_consistency",
        "copy_probability",
        "double_fault",
        "yules_q",
        "error_phi",
        "same_wrong_rate",
        "conditional_failure",
    ):
        single = getattr(metrics, name)(swarm)
        np.testing.assert_array_equal(single.to_numpy(), every[name].to_numpy())


def test_complete_only_uses_items_every_agent_answered(swarm: Responses) -> None:
    kappa = metrics.error_consistency(swarm, complete_only=True).to_numpy()
    complete = swarm.complete_items
    a = swarm.correct[complete, 0]
    b = swarm.correct[complete, 1]
    assert kappa[0, 1] == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_undefined_kappa_is_nan_with_a_warning() -> None:
    # Both agents always right: chance agreement is 1, so kappa is 0/0.
    r = Responses.from_arrays(correct=[[1, 1, 0], [1, 1, 1], [1, 1, 0]])
    with pytest.warns(UndefinedMetricWarning, match="undefined"):
        kappa = metrics.error_consistency(r)
    assert np.isnan(kappa.iloc[0, 1])
    assert np.isfinite(kappa.iloc[0, 2])  # one perfect agent alone still gives kappa = 0
    assert kappa.iloc[0, 2] == pytest.approx(0.0, abs=1e-12)


def test_copy_probability_recovers_a_copying_agent() -> None:
    rng = np.random.default_rng(4)
    source = (rng.random(20000) < 0.7).astype(float)
    independent = (rng.random(20000) < 0.7).astype(float)
    copier = np.where(rng.random(20000) < 0.4, source, independent)
    r = Responses.from_arrays(correct=np.column_stack([source, copier]))
    assert metrics.copy_probability(r).iloc[0, 1] == pytest.approx(0.4, abs=0.02)
    assert metrics.error_consistency_pvalue(r).iloc[0, 1] < 1e-100
