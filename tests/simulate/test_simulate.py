"""The simulator against known mathematics, and its sweeps, CLI and Ray executor."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from monoculture import analyze, metrics
from monoculture.cli.main import app
from monoculture.errors import InputError
from monoculture.simulate import (
    CascadeConfig,
    ClassificationConfig,
    CommonsConfig,
    EstimationConfig,
    SweepConfig,
    load_sweep,
    run_cascade,
    run_classification,
    run_commons,
    run_estimation,
    run_sweep,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


def _beta_binomial_majority_by_integration(n_voters: int, accuracy: float, icc: float) -> float:
    """P(a strict majority of n voters is right) when each item's chance p is Beta with this
    mean and intra-class correlation, by integrating the binomial tail over the Beta density
    (scipy quad); written here so that the reference is not the package's closed form."""
    # Beta(a, b) has mean a / (a + b) and, as a beta-binomial, ICC 1 / (a + b + 1).
    total = (1.0 - icc) / icc
    a, b = accuracy * total, (1.0 - accuracy) * total
    majority = n_voters // 2 + 1  # n_voters odd here: no ties

    def integrand(p: float) -> float:
        return float(stats.beta.pdf(p, a, b) * stats.binom.sf(majority - 1, n_voters, p))

    value, _ = integrate.quad(integrand, 0.0, 1.0, epsabs=1e-12, limit=200)
    return float(value)


def _latent_error_consistency_by_integration(
    accuracy: float, homogeneity: float, temperature: float
) -> float:
    """Error consistency of two agents of one constitution in the latent model, by 1-D
    quadrature over the shared factor u (given u the two agents fail independently), not
    through a bivariate normal CDF as the package does.

    Margin m = mu + sqrt(h) u + sqrt(1 - h) v + T eps; wrong when m < 0, so
    P(wrong | u) = Phi((-mu - sqrt(h) u) / sqrt(1 - h + T^2)). With equal accuracies
    kappa = (P(both wrong) - q^2) / (q (1 - q)).
    """
    mu = stats.norm.ppf(accuracy)
    spread = np.sqrt(1.0 - homogeneity + temperature**2)

    def both_wrong(u: float) -> float:
        wrong = stats.norm.cdf((-mu - np.sqrt(homogeneity) * u) / spread)
        return float(stats.norm.pdf(u) * wrong**2)

    joint, _ = integrate.quad(both_wrong, -np.inf, np.inf, epsabs=1e-13)
    q = stats.norm.cdf(-mu / np.sqrt(1.0 + temperature**2))
    return float((joint - q**2) / (q * (1.0 - q)))


def test_majority_of_correlated_voters_matches_the_beta_binomial() -> None:
    # Ladha (1992): exchangeable voters whose chance of being right is Beta-distributed.
    # Catches a simulator whose Beta draws have the wrong concentration (e.g. h / (1 - h)
    # instead of (1 - h) / h) or are drawn per agent instead of per item.
    config = ClassificationConfig(
        n_agents=15,
        n_steps=1,
        items_per_step=40_000,
        n_options=2,
        accuracy=0.6,
        homogeneity=0.2,
        shared_model="beta",
        seed=2,
    )
    result = run_classification(config)
    observed = result.steps["plurality_accuracy"].iloc[0]
    expected = _beta_binomial_majority_by_integration(15, 0.6, 0.2)
    # Cross-check the integral with scipy's beta-binomial (same a, b): 1e-9.
    a, b = 0.6 * 4.0, 0.4 * 4.0
    assert expected == pytest.approx(stats.betabinom.sf(7, 15, a, b), abs=1e-9)
    # Binomial SE of a proportion over 40,000 items (~0.0024); 4 SE.
    standard_error = np.sqrt(expected * (1 - expected) / 40_000)
    assert abs(observed - expected) < 4 * standard_error
    # Independence would promise far more: the correlation is what costs accuracy.
    assert expected < 1 - stats.binom.cdf(7, 15, 0.6) - 0.05


@pytest.mark.parametrize(
    "config",
    [
        # Coupled (stepwise) path: partial observation.
        EstimationConfig(
            n_agents=300,
            n_steps=40,
            homogeneity=0.3,
            temperature=0.2,
            n_constitutions=3,
            observe_probability=0.8,
            seed=4,
        ),
        # Uncoupled fast path with two chunks of agents, merged by Chan's formula.
        EstimationConfig(
            n_agents=10_000, n_steps=30, homogeneity=0.3, temperature=0.2, n_constitutions=3, seed=4
        ),
    ],
    ids=["stepwise", "two-chunks"],
)
def test_diversity_prediction_theorem_holds_at_every_step(config: EstimationConfig) -> None:
    # Catches a reported diversity that is not the variance the theorem speaks of (ddof=1,
    # spread around theta instead of the swarm mean, a chunk merge that drops the
    # between-chunk term): every reported figure is recomputed here from the recorded
    # outputs, and the theorem is checked with the simulator's own error and diversity
    # against the mean squared individual error computed directly.
    result = run_estimation(config, record_outputs=True)
    assert result.outputs is not None
    y = result.outputs[0].astype(np.float64)
    steps = result.steps
    theta = steps["theta"].to_numpy()
    swarm_mean = y.mean(axis=1)
    mean_squared = ((y - theta[:, None]) ** 2).mean(axis=1)
    diversity = ((y - swarm_mean[:, None]) ** 2).mean(axis=1)
    # The outputs are float32 (relative error ~6e-8 each, ~2e-8 measured on the means);
    # 1e-6 is 50 times that, and a ddof=1 diversity is off by 1/300 or 1/10,000.
    np.testing.assert_allclose(steps["collective"], swarm_mean, rtol=1e-6)
    np.testing.assert_allclose(steps["collective_error"], swarm_mean - theta, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(steps["diversity"], diversity, rtol=1e-6)
    np.testing.assert_allclose(steps["mean_squared_error"], mean_squared, rtol=1e-6)
    # The theorem: collective squared error = mean squared error - diversity.
    np.testing.assert_allclose(
        steps["collective_error"] ** 2 + steps["diversity"], mean_squared, rtol=1e-6
    )


def test_fast_and_stepwise_paths_agree_in_distribution() -> None:
    # observe_probability just below 1 forces the stepwise path; the statistics must match.
    base = {
        "n_agents": 4000,
        "n_steps": 60,
        "n_runs": 6,
        "homogeneity": 0.6,
        "temperature": 0.3,
        "seed": 21,
    }
    fast = run_estimation(EstimationConfig(**base)).steps
    stepwise = run_estimation(EstimationConfig(**base, observe_probability=1 - 1e-9)).steps
    late = slice(30, None)
    for column in ("diversity", "mean_squared_error"):
        assert fast[column].iloc[late].mean() == pytest.approx(
            stepwise[column].iloc[late].mean(), rel=0.05
        )
    # Same world path: it is drawn before, and apart from, the agents' noise.
    np.testing.assert_array_equal(fast["theta"], stepwise["theta"])


def test_drift_detection_after_regime_shifts() -> None:
    config = EstimationConfig(
        n_agents=500,
        n_steps=300,
        n_runs=3,
        drift="regime_shift",
        regime_probability=0.02,
        regime_jump=3.0,
        bias_scale=0.1,
        seed=13,
    )
    runs = run_estimation(config).runs
    assert (runs["drift_detection_time"] > 0).all()
    slow = run_estimation(config.model_copy(update={"learning_rate": 0.05})).runs
    assert slow["drift_detection_time"].mean() > runs["drift_detection_time"].mean()


def test_degroot_averaging_converges_to_the_left_eigenvector_consensus() -> None:
    base = {
        "n_agents": 200,
        "network": "small_world",
        "observe_probability": 0.0,
        "bias_scale": 0.0,
        "temperature": 0.0,
        "seed": 5,
    }
    start = run_estimation(EstimationConfig(**base, n_steps=1, influence=0.0), record_outputs=True)
    final = run_estimation(
        EstimationConfig(**base, n_steps=400, influence=1.0), record_outputs=True
    )
    assert start.outputs is not None
    assert final.outputs is not None
    # Reference built here, not with the package's network code: the row-normalised
    # adjacency with self-loops of an undirected graph is a reversible random walk, whose
    # stationary distribution (the DeGroot consensus weights) is proportional to degree + 1.
    # Catches a wrong left eigenvector (e.g. the right one, uniform weights) or a missing
    # self-loop (weights proportional to degree).
    graph = nx.connected_watts_strogatz_graph(200, 6, 0.1, seed=5)
    weights = np.array([graph.degree(node) + 1 for node in range(200)], dtype=np.float64)
    weights /= weights.sum()
    consensus = weights @ start.outputs[0, 0].astype(np.float64)
    np.testing.assert_allclose(final.outputs[0, -1], consensus, atol=1e-5)
    # Not simply the plain average: the network weights agents unequally.
    assert abs(consensus - start.outputs[0, 0].mean()) > 1e-4


def test_independent_agents_fail_binomially() -> None:
    # Catches agents sharing noise at homogeneity 0 (the all-wrong tail, 0.3^8 = 6.6e-5,
    # grows by orders of magnitude) and a k-of-n curve off by one in k.
    config = ClassificationConfig(
        n_agents=8, n_steps=1, items_per_step=30_000, accuracy=0.7, homogeneity=0.0, seed=6
    )
    responses = run_classification(config).responses[0][0]
    curve = metrics.k_of_n_failure_curve(responses)
    binomial = stats.binom.pmf(np.arange(9), 8, 0.3)
    # Binomial SE of each share over 30,000 items; 4.5 SE (9 comparisons), plus 1e-6 so
    # that a zero count in the far tail (expected 0.2 items) cannot fail.
    standard_error = np.sqrt(binomial * (1 - binomial) / 30_000)
    assert np.all(np.abs(curve["observed"] - binomial) <= 4.5 * standard_error + 1e-6)


def test_analyze_recovers_the_configured_error_correlation() -> None:
    config = ClassificationConfig(
        n_agents=10,
        n_steps=1,
        items_per_step=3000,
        accuracy=0.7,
        homogeneity=0.5,
        temperature=0.5,
        seed=7,
    )
    responses = run_classification(config).responses[0][0]
    # Catches a latent model whose shared share is not h / (1 + T^2) (e.g. temperature noise
    # added before scaling): the reference is by quadrature, see the helper.
    truth = _latent_error_consistency_by_integration(0.7, 0.5, 0.5)
    estimate = analyze(responses, bootstrap=300, seed=1).summary.mean_error_consistency
    assert estimate is not None
    assert estimate.ci_low <= truth <= estimate.ci_high, (estimate, truth)  # type: ignore[operator]


def test_seeded_runs_are_bit_for_bit_reproducible() -> None:
    # More agents than one chunk, so the threaded path is exercised too.
    config = EstimationConfig(
        n_agents=300_000,
        n_steps=3,
        temperature=0.1,
        observe_probability=0.9,
        n_constitutions=2,
        seed=11,
    )
    first, second = run_estimation(config), run_estimation(config)
    pd.testing.assert_frame_equal(first.steps, second.steps, check_exact=True)
    other = run_estimation(config.model_copy(update={"seed": 12}))
    assert not first.steps["collective"].equals(other.steps["collective"])
    # The uncoupled fast path (no influence, feedback or partial observation), two chunks.
    fast = EstimationConfig(n_agents=20_000, n_steps=30, temperature=0.2, seed=11)
    pd.testing.assert_frame_equal(
        run_estimation(fast).steps, run_estimation(fast).steps, check_exact=True
    )
    cascade = CascadeConfig(n_runs=50, seed=3)
    pd.testing.assert_frame_equal(run_cascade(cascade).runs, run_cascade(cascade).runs)


def test_homogeneity_raises_error_correlation_and_across_run_spread() -> None:
    base = {"n_agents": 500, "n_steps": 150, "n_runs": 8, "bias_persistence": 0.995, "seed": 8}
    diverse = run_estimation(EstimationConfig(**base, homogeneity=0.05))
    uniform = run_estimation(EstimationConfig(**base, homogeneity=0.95))
    assert (
        uniform.runs["mean_pairwise_error_correlation"].mean()
        > diverse.runs["mean_pairwise_error_correlation"].mean() + 0.2
    )
    # Coherent drift: less disagreement inside a run, more spread across runs.
    assert uniform.runs["mean_diversity"].mean() < diverse.runs["mean_diversity"].mean()
    assert (
        uniform.runs["final_collective_error"].std()
        > 2 * diverse.runs["final_collective_error"].std()
    )


def test_shared_errors_collapse_the_commons_and_cascades_go_wrong() -> None:
    diverse = run_commons(CommonsConfig(homogeneity=0.0, n_runs=100, seed=1))
    uniform = run_commons(CommonsConfig(homogeneity=0.9, n_runs=100, seed=1))
    assert uniform.runs["collapsed"].mean() > diverse.runs["collapsed"].mean() + 0.2
    alone = run_cascade(CascadeConfig(influence=0.0, n_runs=500, seed=2))
    assert alone.steps["share_right"].mean() == pytest.approx(0.7, abs=0.02)
    herding = run_cascade(CascadeConfig(homogeneity=0.0, n_runs=2000, seed=2))
    shared = run_cascade(CascadeConfig(homogeneity=0.8, n_runs=2000, seed=2))
    assert 0.05 < herding.runs["wrong_cascade"].mean() < shared.runs["wrong_cascade"].mean()


def test_sweep_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[simulation]\nscenario = "estimation"\nn_agents = -3\n')
    with pytest.raises(InputError, match=r"n_agents.*line 3"):
        load_sweep(path)
    path.write_text('[simulation]\nscenario = "estimation"\n[sweep]\nflavour = [1, 2]\n')
    with pytest.raises(InputError, match="flavour"):
        load_sweep(path)
    path.write_text('[simulation]\nscenario = "estimation"\n[sweep]\nhomogeneity = [0.5, 3]\n')
    with pytest.raises(InputError, match="homogeneity"):
        load_sweep(path)


def _small_sweep() -> SweepConfig:
    return SweepConfig.model_validate(
        {
            "simulation": {"scenario": "estimation", "n_agents": 300, "n_steps": 20, "n_runs": 2},
            "sweep": {"homogeneity": [0.1, 0.9]},
            "figure": [{"x": "homogeneity", "y": "mean_pairwise_error_correlation"}],
        }
    )


def test_sweep_gives_tidy_tables() -> None:
    result = run_sweep(_small_sweep())
    assert len(result.runs) == 4
    assert set(result.runs["homogeneity"]) == {0.1, 0.9}
    assert len(result.steps) == 2 * 2 * 20


def test_ray_executor_matches_local() -> None:
    pytest.importorskip("ray")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_sweep(_small_sweep(), executor="ray")
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(on_ray.runs, run_sweep(_small_sweep()).runs)


def test_simulate_command_writes_tables_and_figures(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.toml"
    text = (EXAMPLES / "drift.toml").read_text()
    sweep.write_text(
        text.replace("n_agents = 2000", "n_agents = 200").replace("n_steps = 400", "n_steps = 30")
    )
    result = CliRunner().invoke(app, ["simulate", str(sweep), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for name in ("runs.parquet", "steps.parquet", "figure-1-collective_error.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    bad = CliRunner().invoke(app, ["simulate", str(tmp_path / "missing.toml")])
    assert bad.exit_code == 2


def test_shipped_sweeps_are_valid() -> None:
    # Catches the test passing on an empty glob (a moved examples folder): the two sweeps
    # the README runs must be there, and every shipped sweep must load into cells.
    paths = sorted(EXAMPLES.glob("*.toml"))
    assert {path.name for path in paths} >= {"determinism_homogeneity.toml", "drift.toml"}
    for path in paths:
        assert load_sweep(path).cells(), path


def test_effective_agents_never_exceed_the_swarm() -> None:
    # Catches Kish's formula applied to a negative error correlation: a diverse swarm's
    # mean_effective_agents reached 3.8e8 for 500 agents.
    config = EstimationConfig(n_agents=50, n_steps=60, n_runs=3, homogeneity=0.0, seed=2)
    result = run_estimation(config)
    assert (result.steps["pairwise_error_correlation"] < 0).any()  # the case that broke
    assert result.steps["effective_agents"].max() <= 50.0
    assert result.runs["mean_effective_agents"].max() <= 50.0
