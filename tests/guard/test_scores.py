"""Scores: hand-worked values, invariance to agent order, and the aggregator hook."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest

from monoculture import Responses
from monoculture.aggregate._decisions import Decisions
from monoculture.guard import SCORES, decision_stream, score_decisions, score_items
from monoculture.guard._scores import ScoreName
from tests.conftest import make_swarm


def test_hand_worked_scores() -> None:
    # Item 1: votes A, A, B, unparsed (4 agents scored): agreement 2/4, margin (2-1)/4,
    # entropy over the 3 parsed votes 1 - H(2/3, 1/3)/log 2 = 1 - 0.9183 = 0.0817.
    # Item 2: unanimous C: agreement 1, margin 1, entropy 1. Gold: B then C.
    r = Responses.from_arrays(
        answers=[[0, 0, 1, -1], [2, 2, 2, 2]], gold=[1, 2], labels=["A", "B", "C", "D"]
    )
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(4)
    assert score_items(r).values.tolist() == [0.5, 1.0]
    assert score_items(r, score="margin").values.tolist() == [0.25, 1.0]
    assert score_items(r, score="entropy").values == pytest.approx([1 - h, 1.0], abs=1e-12)
    assert score_items(r).correct.tolist() == [0.0, 1.0]
    probs = np.zeros((2, 4, 4))
    probs[0, :, 0], probs[0, :, 1] = 0.6, 0.4
    probs[1, :, 2] = 1.0
    with_probs = Responses.from_arrays(
        answers=[[0, 0, 1, -1], [2, 2, 2, 2]], gold=[1, 2], labels="ABCD", probs=probs
    )
    assert score_items(with_probs, score="probability").values.tolist() == [0.6, 1.0]


@pytest.mark.parametrize("score", SCORES)
def test_scores_do_not_depend_on_agent_order(score: str) -> None:
    # Catches a score that reads a particular agent (e.g. the first) instead of the votes.
    r = make_swarm(seed=4, n_items=80)
    shuffled = r.select(agents=np.random.default_rng(0).permutation(r.n_agents))
    a, b = score_items(r, score=score), score_items(shuffled, score=score)  # type: ignore[arg-type]
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.answer, b.answer)


def test_score_literal_lists_every_score() -> None:
    assert typing.get_args(ScoreName) == SCORES


def test_decisions_plug_in() -> None:
    # An aggregator's Decisions: the score is its top score, named after its method.
    d = Decisions(
        "dawid_skene",
        np.array([1, 2, 3]),
        ("A", "B"),
        np.array([0, 1, -1]),
        np.array([[0.8, 0.2], [0.3, 0.7], [np.nan, np.nan]]),
        np.array([0.8, 0.6, np.nan]),
        np.array([1.0, 0.0, np.nan]),
    )
    s = score_decisions(d)
    assert s.name == "dawid_skene"
    assert s.values[:2].tolist() == [0.8, 0.7]
    assert math.isnan(s.values[2])
    # No vote: never answered, and counted as a labelled item without a right answer.
    assert s.correct.tolist() == [1.0, 0.0, 0.0]


def test_decision_stream_columns() -> None:
    r = make_swarm(seed=1, n_items=30)
    stream = decision_stream(r)
    assert list(stream.columns) == [
        "step",
        "item_id",
        "answer",
        "agreement",
        "margin",
        "entropy",
        "correct",
    ]
    np.testing.assert_allclose(stream["agreement"], score_items(r).values, atol=1e-12)


def test_supporters_count_a_bloc_of_copies_once() -> None:
    # Catches a supporters score that counts agents rather than independent ones: three
    # copies (consistency 1 among them) and three independent agents. All six agree on
    # item 0: n_eff = 6^2 / (3^2 + 3) = 3, score 3/6. Only the copies give the plurality
    # answer on item 1 (the others split): n_eff = 1, score 1/6, although agreement is 1/2.
    consistency = np.eye(6)
    consistency[:3, :3] = 1.0
    r = Responses.from_arrays(
        answers=[[0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 2, 3]], gold=[0, 1], labels="ABCD"
    )
    values = score_items(r, score="supporters", consistency=consistency).values
    np.testing.assert_allclose(values, [0.5, 1 / 6])
    assert score_items(r, score="agreement").values.tolist() == [1.0, 0.5]
