"""Swarm designs compared: how alike agents decide, trajectories, and the simulator fitted
to a design. Reference values come from naive loops over pairs and from pandas' own
correlation, never from the module under test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from monoculture.environments import (
    Commons,
    CommonsPolicy,
    DriftingEstimation,
    EstimationPolicy,
    compare_designs,
    decision_agreement,
    decision_correlation,
    play,
    run_agreement,
    trajectories,
)
from monoculture.errors import InputError


def _random_commons_table(
    seed: int, runs: int = 6, steps: int = 4, agents: int = 4
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for run, step in itertools.product(range(runs), range(steps)):
        sustainable = int(rng.integers(1, 11))
        shared = rng.integers(0, 3)
        for agent in range(agents):
            # Few distinct values, so that ties (agreement) happen; a shared part per cell,
            # so that the decisions correlate.
            action = sustainable + int(shared) * 2 + int(rng.integers(0, 3))
            rows.append((run, step, agent, float(action), sustainable))
    return pd.DataFrame(rows, columns=["run", "step", "agent", "action", "sustainable"])


def test_agreement_equals_a_loop_over_pairs() -> None:
    # Catches the diagonal counted as agreement, or cells weighted by their pairs.
    table = _random_commons_table(0)
    shares = []
    for _, cell in table.groupby(["run", "step"]):
        actions = cell.sort_values("agent")["action"].tolist()
        pairs = list(itertools.combinations(actions, 2))
        shares.append(sum(a == b for a, b in pairs) / len(pairs))
    estimate = decision_agreement(table, n_resamples=200)
    assert estimate.value == pytest.approx(np.mean(shares), abs=1e-12)
    assert estimate.ci_low <= estimate.value <= estimate.ci_high


def test_decision_correlation_equals_pandas_pairwise_correlation() -> None:
    # Catches a covariance not centred, pairs counted twice with the diagonal, or the
    # commons deviation taken on the request instead of log(request / sustainable).
    table = _random_commons_table(1, runs=8)
    deviation = np.log(np.maximum(table["action"], 0.5) / table["sustainable"])
    wide = table.assign(d=deviation).pivot_table(index=["run", "step"], columns="agent", values="d")
    matrix = wide.corr().to_numpy()
    reference = matrix[~np.eye(len(matrix), dtype=bool)].mean()
    estimate = decision_correlation(table, Commons(n_agents=4), n_resamples=200)
    assert estimate.value == pytest.approx(reference, abs=1e-10)
    assert estimate.ci_low <= estimate.value <= estimate.ci_high


def test_an_agent_that_never_varies_is_left_out_and_all_constant_is_nan() -> None:
    # Catches a division by a zero variance turning the mean into NaN (or inf) while other
    # pairs are defined, and a made-up value when no pair is.
    table = _random_commons_table(2, runs=8)
    table.loc[table["agent"] == 0, "action"] = table.loc[table["agent"] == 0, "sustainable"]
    deviation = np.log(np.maximum(table["action"], 0.5) / table["sustainable"])
    wide = table.assign(d=deviation).pivot_table(index=["run", "step"], columns="agent", values="d")
    matrix = wide.drop(columns=0).corr().to_numpy()  # pandas: agent 0's column is constant
    reference = matrix[~np.eye(len(matrix), dtype=bool)].mean()
    assert decision_correlation(table, Commons(n_agents=4), n_resamples=50).value == (
        pytest.approx(reference, abs=1e-10)
    )
    table["action"] = table["sustainable"].astype(float)
    estimate = decision_correlation(table, Commons(n_agents=4), n_resamples=50)
    assert math.isnan(estimate.value)
    assert "vary" in estimate.method


def test_estimation_correlation_is_of_errors_not_of_estimates() -> None:
    # Catches the estimation's deviation taken as the estimate itself: every estimate
    # follows the drifting truth, so raw estimates correlate near 1 even for agents whose
    # errors are independent.
    result = play(
        DriftingEstimation(n_agents=5, n_steps=30, drift_scale=10.0),
        EstimationPolicy(peer_weight=0.0, bias_scale=0.0, noise=0.0),
        runs=40,
    )
    estimate = decision_correlation(result.table, DriftingEstimation(n_agents=5), n_resamples=100)
    # Independent observation noise: the mean of 10 pair correlations over 1,200 cells has
    # an sd near 1 / sqrt(1200) = 0.03.
    assert abs(estimate.value) < 0.12


def test_trajectories_pool_is_zero_after_a_collapse_and_bands_are_quantiles() -> None:
    # Catches a collapsed run dropped from later steps (the mean would then describe the
    # survivors only) or a band that is not the 10th-90th percentile across runs.
    commons = Commons()
    table = pd.concat(
        [
            play(commons, CommonsPolicy(fraction=1.0), runs=3).table,
            play(commons, CommonsPolicy(fraction=2.0), runs=2).table.assign(
                run=lambda t: t["run"] + 3
            ),
        ],
        ignore_index=True,
    )
    pool = trajectories(table, commons).set_index("step")
    # Runs 0-2 keep 100 tons; runs 3-4 take everything in month 1 and count 0 afterwards.
    per_run = np.array([[100.0] * 12] * 3 + [[100.0] + [0.0] * 11] * 2)
    assert np.allclose(pool["mean"], per_run.mean(axis=0))
    assert np.allclose(pool["low"], np.quantile(per_run, 0.1, axis=0))
    assert np.allclose(pool["high"], np.quantile(per_run, 0.9, axis=0))
    assert (pool["runs"] == 5).all()


def test_the_fitted_simulator_predicts_the_policy_that_played() -> None:
    # Catches a simulator played with another seed or environment than the design, or a fit
    # that loses the shared part of the noise: when the "agents" are themselves the
    # parametric policy, the simulator fitted to them predicts their survival rate within
    # sampling error.
    commons = Commons()
    truth = CommonsPolicy(fraction=1.25, sigma=0.35, homogeneity=0.6)
    agents = play(commons, truth, runs=300, seed=3).table
    comparison = compare_designs(
        {"policy": agents}, {"policy": commons}, simulator_runs=3000, seed=3, n_resamples=200
    )
    observed = comparison.value("policy", "survival_rate")
    predicted = comparison.value("policy", "survival_rate", "simulator")
    se = math.sqrt(observed * (1 - observed) / 300 + predicted * (1 - predicted) / 3000)
    assert abs(observed - predicted) < 4 * se + 1e-9
    fitted = comparison.fitted["policy"]
    assert fitted["fraction"] == pytest.approx(1.25, rel=0.05)
    assert fitted["homogeneity"] == pytest.approx(0.6, abs=0.1)
    assert set(comparison.summary["source"]) == {"llm", "simulator"}
    assert set(comparison.trajectories["design"]) == {"policy"}


def test_a_homogeneous_swarm_agrees_more_than_a_diverse_one() -> None:
    # Catches agreement or correlation computed over the wrong axis (agents vs cells): the
    # lock-step swarm (homogeneity 1, same constitution) must score higher on both.
    commons = Commons()
    tables = {
        "lock-step": play(commons, CommonsPolicy(1.1, 0.3, 1.0), runs=60).table,
        "diverse": play(
            commons, CommonsPolicy(1.1, 0.3, 0.0, constitutions=(0, 1, 2, 3, 4)), runs=60
        ).table,
    }
    comparison = compare_designs(
        tables, dict.fromkeys(tables, commons), simulator_runs=0, n_resamples=200
    )
    for metric in ("agreement", "decision_correlation"):
        assert comparison.value("lock-step", metric) > comparison.value("diverse", metric) + 0.3
    assert "simulator" not in set(comparison.summary["source"])


def test_compare_designs_refuses_what_it_cannot_compare() -> None:
    # Catches designs of two environments compared as one, and silent empty results.
    table = play(Commons(), CommonsPolicy(), runs=2).table
    with pytest.raises(InputError, match="different environments"):
        compare_designs(
            {"a": table, "b": table}, {"a": Commons(), "b": DriftingEstimation(n_agents=5)}
        )
    with pytest.raises(InputError, match="no environment"):
        compare_designs({"a": table}, {})
    with pytest.raises(InputError, match="no design"):
        compare_designs({}, {})


def test_run_agreement_equals_a_loop_over_pairs_of_runs() -> None:
    # Catches pairs of runs counted within a step across agents, a run paired with itself,
    # or cells that only one run reached counted as alike.
    table = _random_commons_table(3, runs=7, steps=3)
    table = table[~((table["run"] == 6) & (table["step"] == 2))]  # run 6 ended early
    lone = pd.DataFrame({"run": 0, "step": 5, "agent": [0, 1, 2, 3], "action": 1.0})
    table = pd.concat([table, lone.assign(sustainable=1)], ignore_index=True)  # one run only
    shares = []
    for (_step, _agent), cell in table.groupby(["step", "agent"]):
        actions = cell.sort_values("run")["action"].tolist()
        pairs = list(itertools.combinations(actions, 2))
        if pairs:
            shares.append(sum(a == b for a, b in pairs) / len(pairs))
    estimate = run_agreement(table, n_resamples=200)
    assert estimate.value == pytest.approx(np.mean(shares), abs=1e-12)
    assert estimate.ci_low <= estimate.value <= estimate.ci_high


def test_greedy_copies_repeat_every_run_and_noise_does_not() -> None:
    # Catches run agreement that cannot tell copied runs from independent ones.
    commons = Commons()
    copies = play(commons, CommonsPolicy(fraction=1.0, sigma=0.0), runs=10).table
    noisy = play(commons, CommonsPolicy(fraction=1.0, sigma=0.5, homogeneity=0.0), runs=10).table
    assert run_agreement(copies, n_resamples=50).value == 1.0
    assert run_agreement(noisy, n_resamples=50).value < 0.5


def test_unparsed_answers_are_not_decisions() -> None:
    # Catches the default of an unparsed answer (0 tons) counted as a decision: agents that
    # fail to parse together would look like a swarm that agrees.
    table = _random_commons_table(4, runs=6)
    rng = np.random.default_rng(4)
    table["valid"] = rng.random(len(table)) > 0.3
    table.loc[~table["valid"], "action"] = 0.0  # the commons' default
    alike = pairs = 0
    for _, cell in table.groupby(["run", "step"]):
        parsed = cell[cell["valid"]]["action"].tolist()
        combos = list(itertools.combinations(parsed, 2))
        alike += sum(a == b for a, b in combos)
        pairs += len(combos)
    assert decision_agreement(table, n_resamples=50).value == pytest.approx(alike / pairs)
    per_agent = []
    for (_step, _agent), cell in table[table["valid"]].groupby(["step", "agent"]):
        combos = list(itertools.combinations(cell["action"].tolist(), 2))
        if combos:
            per_agent.append(sum(a == b for a, b in combos) / len(combos))
    assert run_agreement(table, n_resamples=50).value == pytest.approx(np.mean(per_agent))
    # The correlation reads the cells where every answer parsed.
    complete = table.groupby(["run", "step"])["valid"].transform("all")
    kept = table[complete]
    deviation = np.log(np.maximum(kept["action"], 0.5) / kept["sustainable"])
    wide = kept.assign(d=deviation).pivot_table(index=["run", "step"], columns="agent", values="d")
    matrix = wide.corr().to_numpy()
    reference = np.nanmean(matrix[~np.eye(len(matrix), dtype=bool)])
    estimate = decision_correlation(table, Commons(n_agents=4), n_resamples=50)
    assert estimate.value == pytest.approx(reference, abs=1e-10)


def test_one_run_gives_no_interval_rather_than_a_zero_width_one() -> None:
    # Catches a bootstrap over one run (always itself) reported as a certain interval.
    from monoculture.errors import UndefinedMetricWarning

    table = _random_commons_table(5, runs=1)
    with pytest.warns(UndefinedMetricWarning, match="two runs"):
        estimate = decision_agreement(table, n_resamples=50)
    assert 0 < estimate.value < 1
    assert math.isnan(estimate.ci_low)
    assert math.isnan(estimate.ci_high)


def test_shares_keep_their_intervals_inside_zero_and_one() -> None:
    # Catches a t interval of a share running below 0 (seen: valid share 0.23 [-0.07, 0.53]).
    from monoculture.environments._intervals import mean_interval

    estimate = mean_interval(np.array([0.0, 0.0, 0.0, 1.0]), bounds=(0.0, 1.0))
    assert estimate.ci_low == 0.0
    assert estimate.value == 0.25
    unbounded = mean_interval(np.array([0.0, 0.0, 0.0, 1.0]))
    assert unbounded.ci_low < 0  # the data are such that the clip matters


def test_a_table_without_the_columns_is_refused_by_name() -> None:
    # Catches a raw KeyError from the public figures.
    table = pd.DataFrame({"run": [0], "step": [0], "agent": [0]})
    for figure in (decision_agreement, run_agreement):
        with pytest.raises(InputError, match="action"):
            figure(table)
    table["action"] = 1.0
    with pytest.raises(InputError, match="sustainable"):
        decision_correlation(table, Commons())


def test_estimation_trajectories_share_the_truth_across_designs() -> None:
    # Catches designs played on different environment draws (the comparison would then mix
    # the swarm's effect with the world's): with one seed and number of runs, the hidden
    # quantity follows the same path whatever the agents answer.
    environment = DriftingEstimation(n_agents=5, n_steps=6)
    paths = [
        trajectories(play(environment, policy, runs=4, seed=2).table, environment)
        for policy in (EstimationPolicy(peer_weight=0.9), EstimationPolicy(bias_scale=9.0))
    ]
    truths = [path[path["quantity"] == "truth"].reset_index(drop=True) for path in paths]
    pd.testing.assert_frame_equal(truths[0], truths[1])
    collective = [path[path["quantity"] == "collective"]["mean"].to_numpy() for path in paths]
    assert not np.allclose(collective[0], collective[1])
