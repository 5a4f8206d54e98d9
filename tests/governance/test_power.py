"""Power indices: published games, brute-force enumeration, Monte Carlo error bars."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monoculture.governance as governance
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.governance import group_power, herfindahl_hirschman, power_indices


def brute_banzhaf(weights: list[int], quota: int) -> list[Fraction]:
    """Swing counts / 2^(n-1), by enumerating every coalition of the others."""
    n = len(weights)
    swings = [0] * n
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            for coalition in itertools.combinations(others, size):
                total = sum(weights[j] for j in coalition)
                if total < quota <= total + weights[i]:
                    swings[i] += 1
    return [Fraction(s, 2 ** (n - 1)) for s in swings]


def brute_shapley_shubik(weights: list[int], quota: int) -> list[Fraction]:
    """Pivots over every order of the players / n!."""
    n = len(weights)
    pivots = [0] * n
    for order in itertools.permutations(range(n)):
        total = 0
        for player in order:
            total += weights[player]
            if total >= quota:
                pivots[player] += 1
                break
    return [Fraction(p, math.factorial(n)) for p in pivots]


def test_public_api_is_sorted_and_complete() -> None:
    # Catches: a name added to a module but not re-exported, or an unsorted __all__.
    assert governance.__all__ == sorted(governance.__all__, key=lambda s: (not s.isupper(), s))
    for name in governance.__all__:
        assert hasattr(governance, name)


def test_eec_council_1958() -> None:
    # Published: EEC Council of Ministers 1958, quota 12, weights 4,4,4,2,2,1 (France,
    # Germany, Italy, Belgium, Netherlands, Luxembourg); Banzhaf 5/21 x3, 3/21 x2, 0 and
    # Shapley-Shubik 14/60 x3, 9/60 x2, 0 (Felsenthal & Machover 1998, ch. 3).
    # Catches: a swing counted on the wrong side of the quota (Luxembourg would get power).
    weights = [4, 4, 4, 2, 2, 1]
    bz = power_indices(weights, quota=12)
    np.testing.assert_allclose(bz.share, np.array([5, 5, 5, 3, 3, 0]) / 21, atol=1e-12)
    ss = power_indices(weights, quota=12, index="shapley_shubik")
    np.testing.assert_allclose(ss.share, np.array([14, 14, 14, 9, 9, 0]) / 60, atol=1e-12)


def test_published_small_games() -> None:
    # [6; 4,3,2,1]: Banzhaf 5/12, 1/4, 1/4, 1/12 (swings 5, 3, 3, 1 of 12).
    # [4; 3,2,1,1]: Shapley-Shubik 1/2, 1/6, 1/6, 1/6.
    # Catches: normalising by 2^(n-1) instead of by the total swings (shares would not sum
    # to 1), and a quota treated as strict.
    bz = power_indices([4, 3, 2, 1], quota=6)
    np.testing.assert_allclose(bz.share, [5 / 12, 1 / 4, 1 / 4, 1 / 12], atol=1e-12)
    np.testing.assert_allclose(bz.raw, [5 / 8, 3 / 8, 3 / 8, 1 / 8], atol=1e-12)
    ss = power_indices([3, 2, 1, 1], quota=4, index="shapley_shubik")
    np.testing.assert_allclose(ss.share, [1 / 2, 1 / 6, 1 / 6, 1 / 6], atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=7).filter(lambda w: sum(w) > 0),
    st.floats(0.01, 1.0),
)
def test_matches_enumeration(weights: list[int], position: float) -> None:
    # Catches: errors in dividing a player out of the generating function (repeated
    # weights, zero weights, quota at either end), and in the complement trick for
    # coalition sizes above n/2 in Shapley-Shubik.
    quota = max(1, math.ceil(position * sum(weights)))
    bz = power_indices(weights, quota=quota)
    np.testing.assert_allclose(
        bz.raw, [float(x) for x in brute_banzhaf(weights, quota)], atol=1e-12
    )
    ss = power_indices(weights, quota=quota, index="shapley_shubik")
    expected = [float(x) for x in brute_shapley_shubik(weights, quota)]
    np.testing.assert_allclose(ss.share, expected, atol=1e-12)


def test_exact_matches_big_integer_generating_function() -> None:
    # 40 players, weights to 30: too many for enumeration, so the reference is the
    # generating function in exact Python integers (coefficient lists of prod (1 + x^w)).
    # Catches: rounding error that grows with the number of players.
    rng = np.random.default_rng(3)
    weights = rng.integers(1, 31, 40).tolist()
    quota = sum(weights) // 2 + 1
    expected = []
    for i in range(len(weights)):
        counts = [1] + [0] * sum(weights)
        for j, w in enumerate(weights):
            if j != i:
                counts = [c + (counts[k - w] if k >= w else 0) for k, c in enumerate(counts)]
        swings = sum(counts[max(quota - weights[i], 0) : quota])
        expected.append(Fraction(swings, 2 ** (len(weights) - 1)))
    result = power_indices(weights)
    np.testing.assert_allclose(result.raw, [float(x) for x in expected], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("index", ["banzhaf", "shapley_shubik"])
def test_monte_carlo_within_error_bars(index: str) -> None:
    # Catches: a biased estimator (e.g. counting only swings of members of S) or standard
    # errors that are too small. Seeded; with 30 players, |z| < 4 for all of them.
    rng = np.random.default_rng(7)
    weights = rng.integers(1, 20, 30)
    exact = power_indices(weights, index=index)  # type: ignore[arg-type]
    mc = power_indices(weights, index=index, method="monte_carlo", n_samples=40_000, rng=1)  # type: ignore[arg-type]
    z = np.abs(mc.share - exact.share) / np.maximum(mc.std_error, 1e-12)
    assert z.max() < 4.0
    assert 0.5 < float(np.std((mc.share - exact.share) / mc.std_error)) < 1.6
    assert mc.share.sum() == pytest.approx(1.0)


def test_monte_carlo_takes_real_weights_and_exact_needs_resolution() -> None:
    # Catches: real weights silently truncated to integers by the exact method.
    weights = [0.7, 1.3, 2.05, 0.4]
    with pytest.raises(InputError, match="resolution"):
        power_indices(weights)
    rounded = power_indices(weights, resolution=0.05)
    assert rounded.game_weights.tolist() == [14, 26, 41, 8]
    assert "multiples of 0.05" in rounded.method
    mc = power_indices(weights, method="monte_carlo", n_samples=50_000, rng=0)
    z = np.abs(mc.share - rounded.share) / np.maximum(mc.std_error, 1e-12)
    assert z.max() < 4.0


def test_invariance_and_dummies() -> None:
    # Catches: results tied to player order, and a zero-weight player given power.
    weights = np.array([5, 0, 3, 3, 2, 7])
    order = np.array([3, 0, 5, 1, 4, 2])
    for index in ("banzhaf", "shapley_shubik"):
        base = power_indices(weights, index=index)  # type: ignore[arg-type]
        moved = power_indices(weights[order], index=index)  # type: ignore[arg-type]
        np.testing.assert_allclose(moved.share, base.share[order], atol=1e-12)
        assert base.share[1] == 0.0
        # scaling weights and quota together changes nothing
        scaled = power_indices(weights * 3, quota=float(base.quota * 3 - 2), index=index)  # type: ignore[arg-type]
        np.testing.assert_allclose(scaled.share, base.share, atol=1e-12)


def test_bad_input_names_the_parameter() -> None:
    # Catches: negative weights or a quota above the total accepted (a game nobody wins).
    with pytest.raises(InputError, match="weights"):
        power_indices([1, -2, 3])
    with pytest.raises(InputError, match="quota"):
        power_indices([1, 2, 3], quota=7)
    with pytest.raises(InputError, match="index"):
        power_indices([1, 2], index="penrose")  # type: ignore[arg-type]


def test_group_power_blocs_and_members() -> None:
    # Blocs: groups of 3, 1, 1 equal voters in a majority of 5: [3; 3, 1, 1] -> the bloc of
    # 3 is a dictator. Members: each agent 1/5 of the power, summed per group.
    # Catches: the bloc game built from member counts instead of summed weights, and HHI on
    # unnormalised shares.
    groups = ["a", "a", "a", "b", "c"]
    blocs = group_power([1, 1, 1, 1, 1], groups, attribute="family")
    assert blocs.groups[0] == "a"
    np.testing.assert_allclose(blocs.share, [1.0, 0.0, 0.0])
    assert blocs.hhi == pytest.approx(1.0)
    members = group_power([1, 1, 1, 1, 1], groups, coalition="members")
    np.testing.assert_allclose(members.share, [0.6, 0.2, 0.2])
    assert members.hhi == pytest.approx(0.36 + 0.04 + 0.04)
    assert members.effective_groups == pytest.approx(1 / 0.44)
    missing = group_power([1, 1, 1], ["x", None, float("nan")])
    assert set(missing.groups) == {"x", "(missing)"}


def test_herfindahl_hirschman() -> None:
    # Hand-worked: shares 1/2, 1/4, 1/4 -> 1/4 + 1/16 + 1/16 = 3/8; equal shares -> 1/n.
    assert herfindahl_hirschman([0.5, 0.25, 0.25]) == pytest.approx(0.375)
    assert herfindahl_hirschman([1, 1, 1, 1]) == pytest.approx(0.25)
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(herfindahl_hirschman([0.0, 0.0]))


def test_thousand_agents_is_fast_and_sums_to_one() -> None:
    # The speed target (2 s) is measured in benchmarks/bench_power.py; here only that the
    # exact Banzhaf indices of a large game are well formed and agree with Monte Carlo.
    rng = np.random.default_rng(0)
    weights = rng.integers(1, 101, 1000)
    exact = power_indices(weights)
    assert exact.share.sum() == pytest.approx(1.0)
    assert np.all(np.diff(exact.share[np.argsort(weights)]) >= -1e-12)  # monotone in weight
    mc = power_indices(weights, method="monte_carlo", n_samples=20_000, rng=2)
    seen = mc.raw * 20_000 >= 30  # the normal approximation needs some swings
    z = (mc.share - exact.share)[seen] / mc.std_error[seen]
    assert np.mean(np.abs(z) < 3) > 0.99
    assert np.abs(z).max() < 5


def exact_shapley_shubik(weights: list[int], quota: int) -> list[Fraction]:
    """Shapley–Shubik in exact arithmetic: per player, the others' coalitions counted by
    size and weight in Python integers, each size weighted by s! (n-1-s)! / n!."""
    n = len(weights)
    result: dict[int, Fraction] = {}
    for i, w in enumerate(weights):
        if w in result:
            continue  # equal weights, equal index
        counts = [[0] * quota for _ in range(n)]  # counts[s][k], k < quota
        counts[0][0] = 1
        for j, v in enumerate(weights):
            if j == i:
                continue
            for s in range(n - 1, 0, -1):
                row, below = counts[s], counts[s - 1]
                for k in range(quota - 1, v - 1, -1):
                    row[k] += below[k - v]
        result[w] = sum(
            (
                Fraction(math.factorial(s) * math.factorial(n - 1 - s), math.factorial(n))
                * sum(counts[s][max(quota - w, 0) : quota])
                for s in range(n)
            ),
            Fraction(0),
        )
    return [result[w] for w in weights]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0, 1, 1, 2, 3, 3, 5]), min_size=2, max_size=7).filter(
        lambda w: sum(w) > 0
    ),
    st.floats(0.01, 1.0),
)
def test_shapley_shubik_repeated_weights_match_enumeration(
    weights: list[int], position: float
) -> None:
    # Players of equal weight share one division of the size-by-weight table.
    # Catches: the result of one weight written to the players of another, a zero-weight
    # player's size left out of the table, and the band or complement off by one.
    quota = max(1, math.ceil(position * sum(weights)))
    ss = power_indices(weights, quota=quota, index="shapley_shubik")
    expected = [float(x) for x in brute_shapley_shubik(weights, quota)]
    np.testing.assert_allclose(ss.share, expected, atol=1e-12)


@pytest.mark.parametrize("quota_share", [0.2, 0.5, 0.9])
def test_shapley_shubik_matches_exact_integers(quota_share: float) -> None:
    # 60 players drawn from 6 weights: too many for enumeration; the reference counts
    # coalitions by size and weight in exact integers, player by player.
    # Catches: rounding error in the alternating division (it would grow with n), and a
    # band clipped wrongly when the quota is far from half the weight.
    rng = np.random.default_rng(4)
    weights = rng.choice([1, 2, 4, 7, 11, 20], size=60).tolist()
    quota = max(1, round(quota_share * sum(weights)))
    expected = np.array([float(x) for x in exact_shapley_shubik(weights, quota)])
    result = power_indices(weights, quota=quota, index="shapley_shubik")
    np.testing.assert_allclose(result.share, expected, rtol=1e-10, atol=1e-15)
    assert result.share.sum() == pytest.approx(1.0, abs=1e-12)


def test_shapley_shubik_count_scaling_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    # Beyond about 1,020 players the coalition counts overflow float64 and row s of the
    # table is kept divided by 2^(e s); forcing that path on a small game must change
    # nothing. Catches: a scale exponent applied to the wrong size in the division.
    from monoculture.governance import _power

    rng = np.random.default_rng(8)
    weights = rng.integers(1, 30, 120)
    plain = power_indices(weights, index="shapley_shubik")
    monkeypatch.setattr(_power, "_shapley_shubik_scale", lambda n, half: 3)
    scaled = power_indices(weights, index="shapley_shubik")
    np.testing.assert_allclose(scaled.share, plain.share, rtol=1e-12, atol=1e-16)


def test_shapley_shubik_large_swarm_within_monte_carlo_error_bars() -> None:
    # 1,200 players, four distinct weights: past float64's range of coalition counts
    # (C(1200, 600) ~ 1e359), so the scaled table is used. Per weight class, the Monte
    # Carlo share of orders whose pivot is in the class is a binomial proportion.
    # Catches: overflow or underflow in the scaled table, and the complement of sizes above
    # n/2 read with the wrong band.
    rng = np.random.default_rng(9)
    weights = rng.choice([1, 2, 3, 7], size=1200, p=[0.4, 0.3, 0.2, 0.1])
    exact = power_indices(weights, index="shapley_shubik")
    assert exact.share.sum() == pytest.approx(1.0, abs=1e-9)
    n_samples = 20_000
    mc = power_indices(
        weights, index="shapley_shubik", method="monte_carlo", n_samples=n_samples, rng=3
    )
    for w in np.unique(weights):
        members = weights == w
        p_exact = float(exact.share[members].sum())
        p_mc = float(mc.share[members].sum())
        se = math.sqrt(p_mc * (1 - p_mc) / n_samples)
        assert abs(p_mc - p_exact) < 4 * se, (w, p_exact, p_mc, se)
        # equal weights, equal index
        assert np.ptp(exact.share[members]) < 1e-15
