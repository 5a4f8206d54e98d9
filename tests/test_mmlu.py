"""The real MMLU-Pro data (31 LLMs x 12,032 items): figures its README states.

Skipped, with the reason, in a clone without ../shared/data.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

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


# README, "Analyse real data": (figure, value, interval) as printed there, from 1,000
# resamples with seed 0; each with its last shown digit (values in % are shares here).
# Left out: the vote accuracy "if errors were independent" (99.6 %), which the README
# gives without --items; this fixture reads items.csv.gz (fewer options: 99.5 %).
README_FIGURES = [
    ("effective_agents", (2.6, 2.6, 2.7), 0.1),
    ("icc", (0.360, 0.354, 0.366), 0.001),
    ("mean_error_consistency", (0.327, 0.321, 0.333), 0.001),
    ("mean_same_wrong", (0.357, 0.351, 0.363), 0.001),
    ("systemic_failure_rate", (0.0455, 0.0420, 0.0495), 0.0001),
    ("plurality_accuracy", (0.630, 0.621, 0.638), 0.001),
    ("best_agent_accuracy", (0.721, 0.712, 0.729), 0.001),
    ("quiet_failure_share", (0.042, 0.036, 0.048), 0.001),
]


def test_thirty_one_models_behave_like_about_three(mmlu) -> None:  # type: ignore[no-untyped-def]
    # Catches any drift of the README's headline figures: the old bounds (2 < effective
    # agents < 4 around 2.6) let the ICC move from 0.23 to 0.48. Point values are exact
    # functions of the data, so they must round to the printed digits; interval ends here
    # come from 200 resamples (README: 1,000), so they may differ by Monte Carlo error.
    n_resamples = 200
    result = analyze(mmlu, bootstrap=n_resamples, seed=0)
    for name, (value, low, high), digit in README_FIGURES:
        estimate = getattr(result.summary, name)
        assert estimate is not None, name
        assert abs(estimate.value - value) <= digit / 2 + 1e-12, (name, estimate.value)
        # Monte Carlo SE of a 2.5 % bootstrap quantile: sd sqrt(a (1 - a) / B) / phi(z_a)
        # (Efron & Tibshirani 1993, ch. 19), with the bootstrap sd read off the interval
        # (width / 3.92); added for both B = 200 here and B = 1,000 in the README. 3 SE,
        # plus half the printed digit.
        sd = (estimate.ci_high - estimate.ci_low) / (2 * stats.norm.ppf(0.975))
        quantile_se = (
            sd
            * np.sqrt(0.025 * 0.975)
            / stats.norm.pdf(stats.norm.ppf(0.975))
            * (1 / np.sqrt(n_resamples) + 1 / np.sqrt(1000))
        )
        tolerance = digit / 2 + 3 * quantile_se
        assert abs(estimate.ci_low - low) <= tolerance, (name, estimate.ci_low, tolerance)
        assert abs(estimate.ci_high - high) <= tolerance, (name, estimate.ci_high, tolerance)
    # README: "0.327 -> 0.025 after a Rasch adjustment"; 2.2e-08 all wrong if independent.
    adjusted = result.summary.mean_difficulty_adjusted_error_consistency
    assert adjusted == pytest.approx(0.025, abs=0.0005)
    independent = result.summary.value("systemic_failure_rate_independent")
    assert independent == pytest.approx(2.2e-8, abs=0.05e-8)
    # README (with --items): the uniform-error baseline of the same-wrong rate is 12.5 %.
    assert result.summary.mean_same_wrong_independent == pytest.approx(0.125, abs=0.0005)
    assert result.verdict.startswith("31 agents behave like 2.6 independent agents")
