"""Quiet failure, risk-coverage and AURC against naive computations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from monoculture import Responses, metrics


def _naive_votes(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """Per scorable item: the share of scored agents giving the plurality answer, and the
    vote's credit (1 / number of tied winners when gold is among them, else 0), counted
    with a Counter over the parsed answers; unparsed answers count as scored, not as votes."""
    assert responses.answers is not None
    assert responses.gold is not None
    agreement, credit = [], []
    for x in range(responses.n_items):
        scored = [a for a in range(responses.n_agents) if responses.observed[x, a]]
        if not scored or responses.gold[x] < 0:
            continue
        votes = Counter(
            int(responses.answers[x, a]) for a in scored if responses.answers[x, a] >= 0
        )
        top = max(votes.values(), default=0)
        winners = [label for label, count in votes.items() if count == top]
        agreement.append(top / len(scored))
        credit.append(1 / len(winners) if responses.gold[x] in winners else 0.0)
    return np.array(agreement), np.array(credit)


def test_risk_coverage_matches_a_naive_sweep(swarm: Responses) -> None:
    # Catches agreement measured over parsed answers instead of scored agents, ties that
    # count as right, or an answered set that leaves out the last level: agreement and
    # credit are counted here, not taken from plurality_outcome.
    agreement, credit = _naive_votes(swarm)
    curve = metrics.risk_coverage_curve(swarm)
    levels = sorted(set(agreement.tolist()), reverse=True)
    assert len(curve) == len(levels)
    for row, level in zip(curve.itertuples(), levels, strict=True):
        assert row.min_agreement == pytest.approx(level, abs=1e-12)
        answered = agreement >= level - 1e-12
        assert row.coverage == pytest.approx(answered.mean(), abs=1e-12)
        assert row.risk == pytest.approx(1 - credit[answered].mean(), abs=1e-12)
        assert row.answered == answered.sum()
        assert row.quiet_failures == np.sum(answered & (credit == 0) & (agreement >= 0.8))
    assert curve["coverage"].iloc[-1] == pytest.approx(1.0)
    assert curve["risk"].iloc[-1] == pytest.approx(1 - credit.mean(), abs=1e-12)
    wrong = credit == 0
    assert metrics.quiet_failure_share(swarm) == pytest.approx(
        np.mean(agreement[wrong] >= 0.8), abs=1e-12
    )


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
