"""Systemic failure and the k-of-n curve against enumeration and the binomial."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monoculture import Responses, metrics
from monoculture.metrics._poisson_binomial import poisson_binomial_pmf


def test_poisson_binomial_equals_enumeration() -> None:
    p = np.array([0.1, 0.5, 0.7, 0.33])
    brute = np.zeros(5)
    for outcome in itertools.product([0, 1], repeat=4):
        o = np.array(outcome)
        brute[o.sum()] += np.prod(np.where(o == 1, p, 1 - p))
    np.testing.assert_allclose(poisson_binomial_pmf(p), brute, atol=1e-15)


def test_systemic_failure_and_k_of_n(complete_swarm: Responses) -> None:
    errors = complete_swarm.errors
    n = complete_swarm.n_agents
    assert metrics.systemic_failure_rate(complete_swarm) == pytest.approx(
        np.mean(errors.sum(axis=1) == n)
    )
    curve = metrics.k_of_n_failure_curve(complete_swarm)
    assert curve["observed"].iloc[-1] == pytest.approx(
        metrics.systemic_failure_rate(complete_swarm)
    )
    rates = errors.mean(axis=0)
    assert curve["independent"].iloc[-1] == pytest.approx(np.prod(rates), rel=1e-12)
    assert metrics.independent_systemic_failure_rate(complete_swarm) == pytest.approx(
        np.prod(rates), rel=1e-12
    )
    assert curve["observed"].sum() == pytest.approx(1.0)
    assert curve["independent"].sum() == pytest.approx(1.0)


def test_independent_k_of_n_is_binomial() -> None:
    rng = np.random.default_rng(11)
    correct = (rng.random((40000, 6)) < 0.7).astype(float)
    curve = metrics.k_of_n_failure_curve(Responses.from_arrays(correct=correct))
    np.testing.assert_allclose(curve["observed"], curve["independent"], atol=0.01)
