"""Planted truth for the analyses that claim to find structure: the Rasch adjustment (a
shared blind spot versus shared difficulty) and the attribute association test.

The swarms are generated here with numpy. Every agent follows a Rasch model exactly,
``P(right) = sigmoid(ability - difficulty)``; on top of it the agents of one family share
blind spots: each family member, with probability SHARE per item, takes the item's common
uniform draw instead of its own, so that its marginal stays Rasch while family members fail
(and succeed) together beyond what difficulty predicts. Two members share the draw with
probability SHARE^2, so on an item with Rasch probabilities p_a, p_b their covariance is
``SHARE^2 (min(p_a, p_b) - p_a p_b)``, and the planted excess is, exactly,

    kappa_adjusted = 2 mean_i cov_i / (1 - mean_i [p_a p_b + (1 - p_a)(1 - p_b)]),

zero for every pair outside the family.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from monoculture import Responses, metrics
from monoculture.errors import UndefinedMetricWarning

N_AGENTS, FAMILY, N_ITEMS, SHARE = 24, 4, 3000, 0.6
SEED = 20250


def _planted_swarm(
    rng: np.random.Generator, *, share: float = SHARE
) -> tuple[Responses, np.ndarray]:
    """A Rasch swarm whose first FAMILY agents share blind spots; returns it with the true
    probabilities of being right ``(N_ITEMS, N_AGENTS)``."""
    ability = rng.normal(1.0, 0.5, N_AGENTS)
    difficulty = rng.normal(0.0, 1.2, N_ITEMS)
    p_right = 1.0 / (1.0 + np.exp(-(ability[None, :] - difficulty[:, None])))
    draw = rng.random((N_ITEMS, N_AGENTS))
    common = rng.random(N_ITEMS)
    takes_common = rng.random((N_ITEMS, N_AGENTS)) < share
    takes_common[:, FAMILY:] = False
    draw = np.where(takes_common, common[:, None], draw)
    return Responses.from_arrays(correct=(draw < p_right).astype(float)), p_right


def _planted_excess(p_right: np.ndarray, a: int, b: int) -> float:
    """The population difficulty-adjusted kappa of agents a and b (module docstring)."""
    pa, pb = p_right[:, a], p_right[:, b]
    both_family = a < FAMILY and b < FAMILY
    covariance = SHARE**2 * (np.minimum(pa, pb) - pa * pb) if both_family else 0.0 * pa
    chance = pa * pb + (1 - pa) * (1 - pb)
    return float(2 * covariance.mean() / (1 - chance.mean()))


def _pair_groups() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    upper_i, upper_j = np.triu_indices(N_AGENTS, k=1)
    groups = {
        "family": upper_j < FAMILY,
        "cross": (upper_i < FAMILY) & (upper_j >= FAMILY),
        "unrelated": upper_i >= FAMILY,
    }
    return {name: (upper_i[mask], upper_j[mask]) for name, mask in groups.items()}


def test_adjusted_consistency_recovers_a_planted_family_blind_spot() -> None:
    # Catches an adjustment that does not remove shared difficulty (expected agreement from
    # the two marginals, i.e. plain kappa: unrelated pairs then read ~0.2), one that removes
    # too much (the blind spot absorbed, the family's excess gone), and a kappa with the
    # wrong denominator (the excess off by its scale).
    rng = np.random.default_rng(SEED)
    groups = _pair_groups()
    n_sets = 8
    errors, measured, plain_unrelated, q3 = [], [], [], []
    for _ in range(n_sets):
        swarm, p_right = _planted_swarm(rng)
        adjusted = metrics.difficulty_adjusted_error_consistency(swarm).to_numpy()
        residual = metrics.residual_error_correlation(swarm).to_numpy()
        plain = metrics.error_consistency(swarm).to_numpy()
        means = {name: adjusted[i, j].mean() for name, (i, j) in groups.items()}
        i, j = groups["family"]
        truth = np.mean([_planted_excess(p_right, a, b) for a, b in zip(i, j, strict=True)])
        errors.append(means["family"] - truth)
        measured.append((means["family"], means["cross"], means["unrelated"], truth))
        ui, uj = groups["unrelated"]
        plain_unrelated.append(plain[ui, uj].mean())
        q3.append((residual[i, j], residual[ui, uj]))
    family, cross, unrelated, truth = np.mean(measured, axis=0)
    print(
        f"adjusted kappa: family {family:.3f} (planted {truth:.3f}), cross {cross:.3f}, "
        f"unrelated {unrelated:.3f}; plain kappa of unrelated pairs {np.mean(plain_unrelated):.3f}"
    )
    # The family's planted excess is recovered: the mean error over 8 independent data sets
    # is within 4 SE (SE from their spread, ~0.005) of 0, allowing on the low side JML's
    # small negative bias of about -1 / (n_agents - 1) (module docstring of _difficulty).
    bias_bound = 1 / (N_AGENTS - 1)
    standard_error = np.std(errors, ddof=1) / np.sqrt(n_sets)
    error = np.mean(errors)
    assert -bias_bound - 4 * standard_error < error < 4 * standard_error, (error, standard_error)
    # About zero outside the family: within that bias (4 SE of each mean above 0, SE from
    # the spread over the data sets, ~0.001).
    spread = np.std(measured, axis=0, ddof=1) / np.sqrt(n_sets)
    assert -bias_bound < unrelated < 4 * spread[2]
    assert -bias_bound < cross < 4 * spread[1]
    # What the adjustment removes: shared difficulty alone makes plain kappa large.
    assert np.mean(plain_unrelated) > 4 * bias_bound
    # Yen's Q3 finds the same family: every family pair above every unrelated pair, and
    # unrelated pairs near Q3's known bias of -1 / (n_agents - 1) (Yen 1984), not above 0.
    for family_q3, unrelated_q3 in q3:
        assert family_q3.min() > unrelated_q3.max()
        assert -2 * bias_bound < unrelated_q3.mean() < 0


def test_attribute_association_finds_the_planted_family() -> None:
    # Catches a difference of means over the wrong pairs (pairs of different families
    # counted as shared, the diagonal included) and a p-value that cannot reach the
    # smallest value the permutations allow.
    swarm, _ = _planted_swarm(np.random.default_rng(7))
    similarity = metrics.difficulty_adjusted_error_consistency(swarm)
    family = pd.DataFrame(
        {"family": np.repeat(list("fghijk"), 4)}, index=[str(a) for a in swarm.agents]
    )
    row = metrics.attribute_association(similarity, family, n_permutations=999, rng=3).iloc[0]
    values, labels = similarity.to_numpy(), family["family"].to_numpy()
    shared, other = [], []
    for a, b in itertools.combinations(range(N_AGENTS), 2):
        (shared if labels[a] == labels[b] else other).append(values[a, b])
    assert row["n_pairs"] == N_AGENTS * (N_AGENTS - 1) // 2
    assert row["mean_shared"] == pytest.approx(np.mean(shared), abs=1e-12)
    assert row["mean_not_shared"] == pytest.approx(np.mean(other), abs=1e-12)
    assert row["difference"] == pytest.approx(np.mean(shared) - np.mean(other), abs=1e-12)
    assert row["p_value"] == pytest.approx(1 / 1000)


def test_attribute_association_p_values_are_uniform_without_structure() -> None:
    # Catches an invalid permutation test, e.g. a one-sided count against a two-sided
    # statistic (every p-value <= 1/2: KS p ~ 1e-40 in development).
    # 300 null swarms (Rasch only, 12 agents, 3 groups of 4, 199 permutations each); the
    # p-values k / 200 are spread uniformly within their step (a randomised p-value) so
    # that the Kolmogorov-Smirnov test against U(0, 1) is exact. KS p > 0.01: a valid
    # test fails this 1 % of seeds; 1,000 null swarms gave KS p = 0.66 in development.
    rng = np.random.default_rng(11)
    n_agents, n_permutations = 12, 199
    names = [f"agent_{k}" for k in range(n_agents)]
    groups = pd.DataFrame({"family": np.repeat(list("xyz"), 4)}, index=names)
    p_values = []
    for _ in range(300):
        ability = rng.normal(1.0, 0.8, n_agents)
        difficulty = rng.normal(0.0, 1.2, 300)
        p_right = 1.0 / (1.0 + np.exp(-(ability[None, :] - difficulty[:, None])))
        swarm = Responses.from_arrays(
            correct=(rng.random(p_right.shape) < p_right).astype(float), agents=names
        )
        similarity = metrics.difficulty_adjusted_error_consistency(swarm)
        row = metrics.attribute_association(
            similarity, groups, n_permutations=n_permutations, rng=rng
        ).iloc[0]
        p_values.append(row["p_value"])
    p = np.array(p_values)
    assert p.min() >= 1 / (n_permutations + 1)
    randomised = p - rng.random(p.size) / (n_permutations + 1)
    result = stats.kstest(randomised, "uniform")
    print(f"null p-values: KS statistic {result.statistic:.3f}, p = {result.pvalue:.3f}")
    assert result.pvalue > 0.01


def test_attribute_shared_by_no_pair_has_no_p_value() -> None:
    # Catches an undefined difference (no pair shares the attribute) reported as the most
    # significant p-value possible: the CLI printed "family nan ... +nan p 0.001".
    similarity = pd.DataFrame(
        [[1.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.0]], index=list("abc"), columns=list("abc")
    )
    unique = pd.DataFrame({"family": ["x", "y", "z"]}, index=list("abc"))
    with pytest.warns(UndefinedMetricWarning, match="no pair of agents shares a value"):
        row = metrics.attribute_association(similarity, unique, n_permutations=999).iloc[0]
    assert np.isnan(row["difference"])
    assert np.isnan(row["p_value"])
