"""Per-agent accuracy and coverage."""

from __future__ import annotations

import pytest

from monoculture import Responses, metrics


def test_accuracy_and_coverage(swarm: Responses) -> None:
    acc = metrics.accuracy(swarm).to_numpy()
    cov = metrics.coverage(swarm).to_numpy()
    for a in range(swarm.n_agents):
        seen = swarm.observed[:, a]
        assert acc[a] == pytest.approx(swarm.correct[seen, a].mean(), abs=1e-15)
        assert cov[a] == pytest.approx(seen.mean(), abs=1e-15)
