"""Quiet failure, risk-coverage and AURC against naive computations."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture import Responses, metrics


def test_risk_coverage_matches_a_naive_sweep(swarm: Responses) -> None:
    outcome = metrics.plurality_outcome(swarm)
    ok = np.isfinite(outcome.credit)
    agreement, credit = outcome.agreement[ok], outcome.credit[ok]
    curve = metrics.risk_coverage_curve(swarm)
    for row in curve.itertuples():
        answered = agreement >= row.min_agreement
        assert row.coverage == pytest.approx(answered.mean(), abs=1e-12)
        assert row.risk == pytest.approx(1 - credit[answered].mean(), abs=1e-12)
    assert curve["coverage"].iloc[-1] == pytest.approx(1.0)
    assert curve["risk"].iloc[-1] == pytest.approx(1 - metrics.plurality_accuracy(swarm))


def test_aurc_hand_worked() -> None:
    # Item agreements 1, 1, 2/3, 2/3 with outcomes right, wrong, right, right.
    r = Responses.from_arrays(
        answers=np.array([[0, 0, 0], [1, 1, 1], [0, 0, 1], [1, 1, 0]]),
        gold=np.array([0, 0, 0, 1]),
        labels=["A", "B"],
    )
    # Two levels: coverage 1/2 with risk 1/2, coverage 1 with risk 1/4.
    assert metrics.aurc(r) == pytest.approx(0.5 * 0.5 + 0.5 * 0.25)
    assert metrics.quiet_failure_share(r) == pytest.approx(1.0)


def test_threshold_out_of_range_is_rejected(swarm: Responses) -> None:
    with pytest.raises(ValueError, match="threshold"):
        metrics.quiet_failure_share(swarm, threshold=1.5)
