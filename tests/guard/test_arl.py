"""ARL: the textbook values of a CUSUM (k = 0.5, h = 5: 465 in control, 10.4 after a
1-sigma shift) from an independent Brook-Evans chain written here, from the library, and
from simulating the monitor itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monoculture.guard import (
    BernoulliCusum,
    Cusum,
    alarm_run_lengths,
    bernoulli_cusum_arl,
    bernoulli_cusum_threshold,
    cusum_arl,
    cusum_threshold,
)


def brook_evans_one_sided(h: float, k: float, mu: float, m: int = 400) -> float:
    """Brook & Evans (1972) written independently of the library: m cells of width h/m over
    [0, h), each represented by its midpoint, plus an atom at 0 (state 0)."""
    width = h / m
    start = np.concatenate([[0.0], (np.arange(m) + 0.5) * width])[:, None]  # atom, midpoints
    low = np.concatenate([[-np.inf], np.arange(m) * width])[None, :]  # cell j: (low, high]
    high = np.concatenate([[0.0], (np.arange(m) + 1) * width])[None, :]
    # From S = start, the next value S + X - k lands in cell j (the atom takes all <= 0).
    q = stats.norm.cdf(high - start + k, loc=mu) - stats.norm.cdf(low - start + k, loc=mu)
    size = m + 1
    arl = np.linalg.solve(np.eye(size) - q, np.ones(size))
    return float(arl[0])


def test_known_arl_values_by_independent_markov_chain() -> None:
    # Montgomery, Introduction to SQC, table 9.3: two-sided k=0.5, h=5 -> ARL0 465, ARL1
    # (1 sigma) 10.4. Two-sided = 1/(1/ARL+ + 1/ARL-). Catches a mis-built chain.
    up0 = brook_evans_one_sided(5.0, 0.5, 0.0)
    two_sided0 = 1 / (2 / up0)
    up1 = brook_evans_one_sided(5.0, 0.5, 1.0)
    down1 = brook_evans_one_sided(5.0, 0.5, -1.0)
    two_sided1 = 1 / (1 / up1 + 1 / down1)
    assert two_sided0 == pytest.approx(465, rel=0.01)
    assert two_sided1 == pytest.approx(10.4, rel=0.01)
    # The library's chain (another discretisation) agrees with this one.
    assert cusum_arl(5.0, k=0.5) == pytest.approx(two_sided0, rel=0.005)
    assert cusum_arl(5.0, k=0.5, shift=1.0) == pytest.approx(two_sided1, rel=0.005)
    # And the threshold for a target of 465 is h = 5 (catches an inverted root search).
    assert cusum_threshold(465.0, k=0.5) == pytest.approx(5.0, abs=0.01)


def test_arl_by_simulating_the_monitor() -> None:
    # The monitor restarts after each alarm, so a long N(0, 1) stream gives many
    # independent run lengths: their mean is the ARL, standard error sd / sqrt(count).
    # Catches a monitor that does not do what the chain models (e.g. a missing restart).
    rng = np.random.default_rng(0)
    monitor = Cusum(mean=0.0, sd=1.0, k=0.5, h=5.0)
    runs = alarm_run_lengths(monitor.update_many(rng.standard_normal(2_000_000)))
    se = runs.std() / np.sqrt(len(runs))
    assert abs(runs.mean() - cusum_arl(5.0, k=0.5)) < 4 * se
    shifted = Cusum(mean=0.0, sd=1.0, k=0.5, h=5.0)
    runs1 = alarm_run_lengths(shifted.update_many(rng.standard_normal(200_000) + 1.0))
    se1 = runs1.std() / np.sqrt(len(runs1))
    assert abs(runs1.mean() - cusum_arl(5.0, k=0.5, shift=1.0)) < 4 * se1


def test_bernoulli_cusum_arl_by_simulation() -> None:
    # The lattice chain against simulation, in control and at the rate to detect.
    # On a lattice the ARL is a step function of h: the root lands within a step of 300.
    h = bernoulli_cusum_threshold(300, p0=0.1, p1=0.2)
    assert bernoulli_cusum_arl(h, p0=0.1, p1=0.2) == pytest.approx(300, rel=0.02)
    rng = np.random.default_rng(1)
    for rate in (0.1, 0.2):
        monitor = BernoulliCusum(p0=0.1, p1=0.2, h=h)
        correct = (rng.random(1_000_000) >= rate).astype(float)
        runs = alarm_run_lengths(monitor.update_many(correct))
        se = runs.std() / np.sqrt(len(runs))
        expected = bernoulli_cusum_arl(h, p0=0.1, p1=0.2, p=rate)
        assert abs(runs.mean() - expected) < 4 * se + 0.01 * expected, rate


def test_target_arl_sets_the_threshold() -> None:
    # Thresholds come from the target ARL, not by hand: a larger target, a larger h.
    assert Cusum(target_arl=2000).h > Cusum(target_arl=200).h
    assert cusum_arl(Cusum(target_arl=800).h) == pytest.approx(800, rel=1e-6)
