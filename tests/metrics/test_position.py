"""Position bias: answer shares by displayed position against the gold positions.

Catches: shares counted over items the agent did not answer, gold shares taken over all
items instead of the agent's, positions read from the letters when recorded positions
exist (a shuffled order would look unbiased), and a silent 0 for an agent with no answers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture import Responses
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.io.long_table import responses_from_long
from monoculture.metrics import position_bias


def _naive(answers: np.ndarray, gold: np.ndarray, k: int) -> list[float]:
    """Total variation distance per agent, one cell at a time."""
    out = []
    for j in range(answers.shape[1]):
        chosen, golds = [], []
        for i in range(answers.shape[0]):
            if answers[i, j] >= 0:
                chosen.append(answers[i, j])
                golds.append(gold[i, j])
        if not chosen:
            out.append(float("nan"))
            continue
        p = [chosen.count(v) / len(chosen) for v in range(k)]
        g = [golds.count(v) / len(golds) for v in range(k)]
        out.append(0.5 * sum(abs(a - b) for a, b in zip(p, g, strict=True)))
    return out


def test_hand_worked_first_option_agent() -> None:
    # Agent a always answers A; golds are A, B, C, D: shares (1, 0, 0, 0) against
    # (1/4, 1/4, 1/4, 1/4): TV = 0.5 * (3/4 + 3 * 1/4) = 0.75. Agent b matches the golds.
    r = Responses.from_arrays(
        answers=[[0, 0], [0, 1], [0, 2], [0, 3]], gold=[0, 1, 2, 3], labels=list("ABCD")
    )
    table = position_bias(r)
    assert table.loc["agent_0", "bias_index"] == pytest.approx(0.75)
    assert table.loc["agent_0", "share_1"] == 1.0
    assert table.loc["agent_0", "top_position"] == 1.0
    assert table.loc["agent_1", "bias_index"] == 0.0
    assert table["answered"].tolist() == [4, 4]


def test_recorded_positions_override_letters() -> None:
    # Shuffled options: the agent always answers the option shown first, whose letter
    # changes. By letter it looks unbiased; by recorded position it is all position 1.
    rows = []
    for i, letter in enumerate("ABCD"):
        rows.append(
            {
                "item_id": i,
                "agent": "a",
                "answer": letter,
                "gold": "A",
                "position": 0.0,
                "gold_position": float((4 - i) % 4),
            }
        )
        rows.append(
            {
                "item_id": i,
                "agent": "b",
                "answer": "A",
                "gold": "A",
                "position": float((4 - i) % 4),
                "gold_position": float((4 - i) % 4),
            }
        )
    r = responses_from_long(pd.DataFrame(rows))
    table = position_bias(r)
    assert table.loc["a", "share_1"] == 1.0
    assert table.loc["a", "bias_index"] == pytest.approx(0.75)
    assert table.loc["b", "bias_index"] == 0.0  # right every time: where the gold is


def test_unanswered_cells_and_unknown_positions_are_left_out() -> None:
    rows = [
        {
            "item_id": 0,
            "agent": "a",
            "answer": "A",
            "gold": "B",
            "position": 0.0,
            "gold_position": 1.0,
        },
        {
            "item_id": 1,
            "agent": "a",
            "answer": None,
            "gold": "B",
            "position": np.nan,
            "gold_position": 1.0,
        },
        {
            "item_id": 2,
            "agent": "a",
            "answer": "C",
            "gold": "C",
            "position": np.nan,
            "gold_position": np.nan,
        },  # cloze: no position shown
    ]
    rows += [{**row, "agent": "b"} for row in rows]
    table = position_bias(responses_from_long(pd.DataFrame(rows)))
    assert table.loc["a", "answered"] == 1
    assert table.loc["a", "bias_index"] == pytest.approx(1.0)


def test_an_agent_without_answers_is_nan_with_a_warning() -> None:
    r = Responses.from_arrays(answers=[[0, -1], [1, -1]], gold=[0, 1], labels=["A", "B"])
    with pytest.warns(UndefinedMetricWarning, match="position_bias"):
        table = position_bias(r)
    assert np.isnan(table.loc["agent_1", "bias_index"])
    assert table.loc["agent_1", "answered"] == 0


def test_answers_without_letters_or_positions_are_refused() -> None:
    r = Responses.from_arrays(answers=[[0, 1], [1, 1]], gold=[0, 1], labels=["yes", "no"])
    with pytest.raises(InputError, match="position_bias needs the displayed positions"):
        position_bias(r)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_matches_a_naive_loop_and_is_a_distance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_agents, k = int(rng.integers(1, 30)), int(rng.integers(2, 6)), 4
    answers = rng.integers(-1, k, (n_items, n_agents))
    gold = rng.integers(0, k, n_items)
    r = Responses.from_arrays(answers=answers, gold=gold, labels=list("ABCD"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        table = position_bias(r)
    expected = _naive(answers, np.broadcast_to(gold[:, None], answers.shape), k)
    np.testing.assert_allclose(table["bias_index"].to_numpy(), expected, atol=1e-12)
    finite = table["bias_index"].dropna()
    assert ((finite >= 0) & (finite <= 1 + 1e-12)).all()
    # Invariant: permuting agents permutes rows; permuting items changes nothing.
    order = rng.permutation(n_agents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        permuted = position_bias(r.select(agents=order, items=rng.permutation(n_items)))
    pd.testing.assert_series_equal(
        permuted["bias_index"], table["bias_index"].iloc[order], check_exact=False, atol=1e-12
    )
