"""Pairwise metrics against scikit-learn, statsmodels, naive loops and hand-worked cases."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import optimize
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


def _kappa_range_by_enumeration(n: int, wrong_i: int, wrong_j: int) -> tuple[float, float]:
    """Least and greatest kappa over every 2 x 2 table of n items with these margins: the
    both-wrong count d runs over max(0, wrong_i + wrong_j - n)..min(wrong_i, wrong_j)."""
    p_i, p_j = 1 - wrong_i / n, 1 - wrong_j / n
    chance = p_i * p_j + (1 - p_i) * (1 - p_j)
    if chance == 1:
        return np.nan, np.nan
    kappas = [
        ((n - wrong_i - wrong_j + 2 * d) / n - chance) / (1 - chance)
        for d in range(max(0, wrong_i + wrong_j - n), min(wrong_i, wrong_j) + 1)
    ]
    return min(kappas), max(kappas)


def _copy_probability_by_root_finding(p_i: float, p_j: float, agreement: float) -> float:
    """The copy probability c at which the copy model reproduces the observed agreement,
    found numerically from the model's definition (not the closed form): the less accurate
    agent copies the more accurate one's outcome with probability c, and otherwise answers
    on its own with the accuracy p_own that keeps its marginal, p_copier = c p_source +
    (1 - c) p_own. Agreement(c) = c + (1 - c) [p_source p_own + (1 - p_source)(1 - p_own)],
    continued analytically for c < 0 (agreement below chance)."""
    source, copier = max(p_i, p_j), min(p_i, p_j)
    if source in (0.0, 1.0):
        return np.nan  # the source never varies: copying it cannot be told apart

    def excess(c: float) -> float:
        own = (copier - c * source) / (1 - c)
        return c + (1 - c) * (source * own + (1 - source) * (1 - own)) - agreement

    upper = 1 - 1e-9
    if excess(upper) <= 0:
        return 1.0
    return float(optimize.brentq(excess, -1e6, upper, xtol=1e-15, rtol=1e-15, maxiter=500))


def _naive(responses: Responses) -> dict[str, np.ndarray]:
    """Every pairwise metric from explicit loops over pairs and items; the kappa bounds by
    enumerating tables and the copy probability by root-finding on the copy model."""
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
            out["double_fault"][i, j] = d / nn
            out["conditional_failure"][i, j] = d / a if a else np.nan
            rr = nn - a - b + d
            den = d * rr + (a - d) * (b - d)
            out["yules_q"][i, j] = (d * rr - (a - d) * (b - d)) / den if den else np.nan
            sp = a * (nn - a) * b * (nn - b)
            out["error_phi"][i, j] = (d * nn - a * b) / np.sqrt(sp) if sp else np.nan
            low, high = _kappa_range_by_enumeration(nn, int(a), int(b))
            out["kappa_min"][i, j], out["kappa_max"][i, j] = low, high
            exp = pi * pj + (1 - pi) * (1 - pj)
            if exp < 1:  # kappa defined
                out["copy_probability"][i, j] = _copy_probability_by_root_finding(
                    pi, pj, (nn - a - b + 2 * d) / nn
                )
            out["same_wrong_rate"][i, j] = same / both_answered if both_answered else np.nan
            if i != j:
                a_ij, b_ij = _shared(responses, i, j)
                table = np.array(
                    [[np.sum((a_ij == u) & (b_ij == v)) for v in (0, 1)] for u in (0, 1)]
                )
                out["pvalue"][i, j] = cohens_kappa(table).pvalue_two_sided
    return out


def test_all_pairwise_matrices_match_naive_loops(swarm: Responses) -> None:
    # Catches kappa bounds or copy probabilities off their definitions (a bound from the
    # wrong pairing of margins, the copy source taken as the less accurate agent): the
    # references enumerate the feasible tables and solve the copy model numerically.
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


@pytest.mark.parametrize(
    ("source_accuracy", "own_accuracy"),
    [(0.7, 0.7), (0.8, 0.55)],
    ids=["equal-accuracies", "unequal-accuracies"],
)
def test_copy_probability_recovers_a_copying_agent(
    source_accuracy: float, own_accuracy: float
) -> None:
    # Catches a copy probability that is only kappa under another name, or that takes the
    # less accurate agent as the source: with accuracies 0.8 and 0.65 (0.4 * 0.8 + 0.6 *
    # 0.55) the population kappa is 0.312 and the wrong source gives 0.281, against the
    # planted 0.4. With equal accuracies copy probability and kappa coincide.
    rng = np.random.default_rng(4)
    planted, n_sets, n_items = 0.4, 40, 5000
    estimates, kappas = [], []
    for _ in range(n_sets):
        source = (rng.random(n_items) < source_accuracy).astype(float)
        own = (rng.random(n_items) < own_accuracy).astype(float)
        copier = np.where(rng.random(n_items) < planted, source, own)
        r = Responses.from_arrays(correct=np.column_stack([source, copier]))
        estimates.append(metrics.copy_probability(r).iloc[0, 1])
        kappas.append(metrics.error_consistency(r).iloc[0, 1])
        assert metrics.error_consistency_pvalue(r).iloc[0, 1] < 1e-50
    # SE of the mean over 40 independent data sets, from their spread (about 0.002); 4 SE.
    standard_error = np.std(estimates, ddof=1) / np.sqrt(n_sets)
    assert abs(np.mean(estimates) - planted) < 4 * standard_error, np.mean(estimates)
    if source_accuracy != own_accuracy:
        # The case that tells copying from kappa apart: kappa is well below 0.4.
        assert np.mean(kappas) < planted - 20 * standard_error
