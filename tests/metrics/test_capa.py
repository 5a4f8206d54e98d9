"""CAPA against the reference implementation lm-sim, to 1e-12."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from lmsim.metrics import CAPA

from monoculture import Responses, metrics
from tests.conftest import make_swarm


def _lmsim(responses: Responses, i: int, j: int, *, prob: bool) -> float:
    assert responses.probs is not None
    assert responses.gold is not None
    assert responses.answers is not None
    use = responses.observed[:, i] & responses.observed[:, j] & (responses.gold >= 0)
    if not prob:
        use &= (responses.answers[:, i] >= 0) & (responses.answers[:, j] >= 0)
    items = np.flatnonzero(use)
    k = responses.probs.shape[2]
    if prob:
        a = [responses.probs[x, i] for x in items]
        b = [responses.probs[x, j] for x in items]
    else:
        a = [np.eye(k)[responses.answers[x, i]] for x in items]
        b = [np.eye(k)[responses.answers[x, j]] for x in items]
    return float(CAPA(prob=prob).compute_k(a, b, responses.gold[items].tolist()))


@pytest.mark.parametrize("form", ["probabilistic", "discrete"])
def test_capa_equals_lm_sim(form: str) -> None:
    swarm = make_swarm(seed=3, n_items=40, n_agents=4)
    ours = metrics.capa(swarm, form=form).to_numpy()  # type: ignore[arg-type]
    for i, j in itertools.combinations(range(swarm.n_agents), 2):
        assert ours[i, j] == pytest.approx(
            _lmsim(swarm, i, j, prob=form == "probabilistic"), abs=1e-12
        )


def test_capa_auto_picks_probabilities_when_present(swarm: Responses) -> None:
    np.testing.assert_array_equal(
        metrics.capa(swarm).to_numpy(), metrics.capa(swarm, form="probabilistic").to_numpy()
    )


def test_capa_rejects_an_unknown_form(swarm: Responses) -> None:
    with pytest.raises(ValueError, match="form"):
        metrics.capa(swarm, form="fuzzy")  # type: ignore[arg-type]
