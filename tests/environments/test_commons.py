"""The commons against GovSim's rules (concurrent_env.py at b0b33e5), worked by hand or by
naive loops written here."""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from scipy.stats import chisquare

from monoculture.environments import (
    Commons,
    CommonsPolicy,
    assign_stochastic,
    commons_metrics,
    gini,
    play,
)
from monoculture.errors import InputError, UndefinedMetricWarning
from tests.environments._policies import FixedPolicy


def test_ten_each_leaves_fifty_regrows_to_hundred_and_survives() -> None:
    # Catches: doubling before the cap, a wrong cap, or regrowth from the pre-harvest pool.
    table = play(Commons(), FixedPolicy([[10] * 5]), runs=2).table
    assert table["step"].max() == 11  # all 12 months
    assert (table["pool_before"] == 100).all()
    assert (table["pool_after"] == 50).all()
    assert (table["pool_next"] == 100).all()
    assert not table["collapsed"].any()
    assert (table["harvest"] == 10).all()


def test_twenty_each_empties_the_lake_and_collapses_in_month_one() -> None:
    # Catches: a collapse test on the pool after regrowth, or one that lets the run go on.
    table = play(Commons(), FixedPolicy([[20] * 5]), runs=3).table
    assert len(table) == 3 * 5  # one month per run
    assert (table["pool_after"] == 0).all()
    assert table["collapsed"].all()
    metrics = commons_metrics(table)
    assert metrics.survival_time.value == 1.0  # GovSim counts the month of the collapse
    assert metrics.survival_rate.value == 0.0
    assert metrics.total_gain.value == 100.0
    assert metrics.over_usage.value == 1.0


def test_collapse_threshold_is_strictly_below_five() -> None:
    # Catches `<= 5` for GovSim's `< 5`: 95 taken leaves 5 (survives), 96 leaves 4.
    alive = play(Commons(), FixedPolicy([[19, 19, 19, 19, 19], [0] * 5]), runs=1).table
    assert not alive["collapsed"].any()
    assert alive.loc[alive["step"] == 1, "pool_before"].iloc[0] == 10
    dead = play(Commons(), FixedPolicy([[20, 19, 19, 19, 19]]), runs=1).table
    assert dead["collapsed"].all()
    assert dead["pool_after"].iloc[0] == 4


def _reference_commons(requests: list[list[int]], months: int = 12) -> list[tuple[int, int]]:
    """GovSim's dynamics by hand for requests that always fit: (pool before, pool after)."""
    pool, out = 100, []
    for month in range(months):
        wanted = requests[min(month, len(requests) - 1)]
        taken = min(sum(wanted), pool)
        assert sum(wanted) <= pool, "this reference only covers requests that fit"
        after = pool - taken
        out.append((pool, after))
        if after < 5:
            break
        pool = min(100, 2 * after)
    return out


def test_deterministic_path_matches_a_hand_simulation() -> None:
    # Catches an off-by-one in the month count or the sustainable threshold.
    requests = [[12, 12, 12, 12, 12], [4, 4, 4, 4, 4], [6, 6, 6, 6, 6]]
    table = play(Commons(), FixedPolicy(requests), runs=1).table
    per_step = table.groupby("step")[["pool_before", "pool_after"]].first()
    expected = _reference_commons(requests)
    assert [tuple(map(int, row)) for row in per_step.to_numpy()] == expected
    assert (table["sustainable"] == (table["pool_before"] // 2) // 5).all()


def test_conservation_and_regrowth_at_every_step() -> None:
    # Catches lost or invented fish in the stochastic assignment, and a state that does not
    # carry the regrown pool into the next month.
    policy = CommonsPolicy(fraction=1.6, sigma=0.8, homogeneity=0.3)
    table = play(Commons(), policy, runs=300, seed=4).table
    per = table.groupby(["run", "step"]).agg(
        harvested=("harvest", "sum"),
        requested=("action", "sum"),
        before=("pool_before", "first"),
        after=("pool_after", "first"),
        nxt=("pool_next", "first"),
    )
    assert (per["harvested"] + per["after"] == per["before"]).all()
    assert (per["nxt"] == np.minimum(100, 2 * per["after"])).all()
    assert (per["harvested"] == np.minimum(per["requested"], per["before"])).all()
    assert (table["harvest"] <= table["action"]).all()
    following = per.groupby(level="run")["nxt"].shift(1).dropna()
    assert (per.loc[following.index, "before"] == following).all()
    assert table.groupby("run")["collapsed"].sum().max() <= 5  # one collapsed month per run


@cache
def _exact(wanted: tuple[int, ...], remaining: int) -> dict[tuple[int, ...], Fraction]:
    """The exact distribution of extra harvests under GovSim's stochastic rule: one ton at a
    time to an agent drawn uniformly among those still wanting."""
    if remaining == 0 or sum(wanted) == 0:
        return {tuple(0 for _ in wanted): Fraction(1)}
    wanting = [k for k, w in enumerate(wanted) if w > 0]
    out: dict[tuple[int, ...], Fraction] = {}
    for k in wanting:
        after = list(wanted)
        after[k] -= 1
        for got, p in _exact(tuple(after), remaining - 1).items():
            total = list(got)
            total[k] += 1
            key = tuple(total)
            out[key] = out.get(key, Fraction(0)) + p / len(wanting)
    return out


@pytest.mark.parametrize(
    ("requests", "pool"), [((3, 1, 2), 4), ((5, 5), 3), ((1, 4, 0, 2), 5), ((2, 2, 2), 5)]
)
def test_stochastic_assignment_has_govsims_distribution(
    requests: tuple[int, ...], pool: int
) -> None:
    # Catches a proportional or token-weighted draw (agents with larger requests favoured),
    # drawing among all agents rather than those still wanting, or a biased index.
    exact = _exact(requests, pool)
    runs = 20_000
    harvest = assign_stochastic(
        np.tile(requests, (runs, 1)), np.full(runs, pool), np.random.default_rng(11)
    )
    assert (harvest.sum(axis=1) == pool).all()
    outcomes = sorted(exact)
    index = {o: k for k, o in enumerate(outcomes)}
    codes = np.array([index[tuple(int(v) for v in row)] for row in harvest])
    observed = np.bincount(codes, minlength=len(outcomes))
    expected = np.array([float(exact[o]) for o in outcomes]) * runs
    assert chisquare(observed, expected).pvalue > 1e-3


def test_stochastic_assignment_when_requests_fit_gives_everyone_theirs() -> None:
    # Catches rationing (or randomness) where the pool suffices, including the exact fit.
    requests = np.array([[3, 4, 0], [50, 25, 25], [0, 0, 0]])
    harvest = assign_stochastic(requests, np.array([10, 100, 7]), np.random.default_rng(0))
    assert harvest.tolist() == requests.tolist()


def test_invalid_requests_are_recorded_and_replaced_by_zero() -> None:
    # Catches clipping (-3 -> 0 valid, 1e9 -> 100 valid) or rounding 12.5, which would guess.
    table = play(Commons(), FixedPolicy([[-3, 1e9, 12.5, np.nan, 7]]), runs=1).table
    first = table[table["step"] == 0].sort_values("agent")
    assert first["valid"].tolist() == [False, False, False, False, True]
    assert first["action"].tolist() == [0, 0, 0, 0, 7]
    assert first["harvest"].tolist() == [0, 0, 0, 0, 7]


def test_communication_knob() -> None:
    # Catches a prompt or observation that leaks the others' harvests without communication.
    policy = FixedPolicy([[8, 9, 10, 11, 12]])
    for talk in (True, False):
        environment = Commons(communication=talk)
        state = environment.reset(1, np.random.default_rng(0))
        actions = policy.act({"pool": np.zeros((1, 5))}, {}, np.random.default_rng(0))
        state, _ = environment.step(state, actions, np.ones((1, 5), bool), np.random.default_rng(0))
        text = environment.prompt(state, 0, 0)
        assert "John wanted to catch 8 tons of fish, and caught 8 tons." in text
        assert ("Kate wanted to catch 9 tons" in text) is talk
        others = environment.observe(state)["others_caught"]
        if talk:
            assert others[0].tolist() == [10.5, 10.25, 10.0, 9.75, 9.5]
        else:
            assert np.isnan(others).all()
        assert "there are 100 tons of fish in the lake" in text  # 50 left, doubled


def test_prompt_follows_govsim_wording() -> None:
    # Catches a drifted port of GovSim's system prompt v3 and observation sentences.
    text = Commons().prompt(Commons().reset(1, np.random.default_rng(0)), 0, 2)
    assert text.startswith(
        "You are Jack, a fisherman, and you fish every month in a lake along with four other "
        "fishermen (John, Kate, Emma, Luke)."
    )
    assert "Before everyone fishes, there are 100 tons of fish in the lake." in text
    assert "The lake has a carrying capacity of 100 tons of fish." in text


def _naive_gini(values: list[float]) -> float:
    n, total = len(values), sum(values)
    return sum(abs(a - b) for a, b in itertools.product(values, values)) / (2 * n * total)


def test_gini_matches_the_double_sum() -> None:
    # Catches a sort-based formula with the wrong rank weights (the fast kernel vs the
    # definition GovSim uses).
    rng = np.random.default_rng(2)
    gains = rng.integers(0, 40, size=(50, 5)).astype(float)
    gains[:, 0] += 1  # nobody-gained rows are tested below
    expected = [_naive_gini(list(row)) for row in gains]
    assert np.allclose(gini(gains), expected, atol=1e-12, rtol=0)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(gini(np.zeros((1, 5)))[0])


def test_metrics_of_a_sustainable_swarm() -> None:
    # Hand-worked: 12 months x 5 fishers x 10 tons = 600, equal gains, no over-usage.
    metrics = commons_metrics(play(Commons(), CommonsPolicy(), runs=4).table)
    assert metrics.survival_time.value == 12.0
    assert metrics.survival_rate.value == 1.0
    assert metrics.total_gain.value == 600.0
    assert metrics.gini.value == 0.0
    assert metrics.over_usage.value == 0.0
    frame = metrics.to_frame()
    assert frame["metric"].tolist() == [
        "survival_time",
        "survival_rate",
        "total_gain",
        "gini",
        "over_usage",
    ]


def test_metric_intervals_contain_their_estimates() -> None:
    policy = CommonsPolicy(fraction=1.3, sigma=0.4, homogeneity=0.5)
    metrics = commons_metrics(play(Commons(), policy, runs=200, seed=1).table)
    for name in ("survival_time", "survival_rate", "total_gain", "gini", "over_usage"):
        estimate = getattr(metrics, name)
        assert estimate.ci_low <= estimate.value <= estimate.ci_high, name
        assert estimate.n == 200


def test_homogeneity_makes_collapse_more_likely() -> None:
    # Planted: the same mean greed; agents that err together overshoot together.
    rates = [
        commons_metrics(
            play(Commons(), CommonsPolicy(fraction=1.1, sigma=0.6, homogeneity=h), runs=400).table
        ).survival_rate.value
        for h in (0.0, 1.0)
    ]
    assert rates[0] > rates[1] + 0.1


def test_bad_options_and_tables_are_refused() -> None:
    with pytest.raises(InputError, match="n_agents"):
        Commons(n_agents=0)
    with pytest.raises(InputError, match="lacks columns"):
        commons_metrics(play(Commons(), CommonsPolicy(), runs=1).table.drop(columns="harvest"))
