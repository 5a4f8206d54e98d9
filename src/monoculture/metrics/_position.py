"""Position bias: where on the list of options each agent's answers fall, against where the
gold answers fall.

A model that prefers the first option it is shown makes the same mistakes as every other
agent that prefers it, whatever the question: a shared blind spot that shuffling the
option order per agent turns into independent noise (see docs/elicitation.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.metrics._arrays import safe_divide
from monoculture.metrics._validate import check_responses, warn_undefined
from monoculture.responses import Responses

__all__ = ["position_bias"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _cells(responses: Responses, name: str) -> np.ndarray | None:
    """``(n_items, n_agents)`` float values of the attribute ``name``, wherever the long-table
    reader put it (a per-cell, per-item or per-agent column); None when absent."""
    shape = (responses.n_items, responses.n_agents)
    if name in responses.cell_attrs:
        values = responses.cell_attrs[name]
    elif name in responses.item_attrs.columns:
        values = np.broadcast_to(responses.item_attrs[name].to_numpy()[:, None], shape)
    elif name in responses.agent_attrs.columns:
        values = np.broadcast_to(responses.agent_attrs[name].to_numpy()[None, :], shape)
    else:
        return None
    return np.asarray(pd.DataFrame(values).apply(pd.to_numeric, errors="coerce"), dtype=float)


def _positions(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """Displayed positions (0-based, NaN where unknown) of each answer and of the gold."""
    answered = _cells(responses, "position")
    gold = _cells(responses, "gold_position")
    if answered is not None and gold is not None:
        return answered, gold
    # No recorded positions: the options were shown in their own order, so the position
    # of a letter answer is its letter (of an option number, its number).
    labels = [str(label).strip().upper() for label in responses.labels]
    letters = all(len(label) == 1 and label in _LETTERS for label in labels)
    numbers = all(label.isdigit() for label in labels)
    if (
        responses.answers is None
        or responses.gold is None
        or not labels
        or not (letters or numbers)
    ):
        raise InputError(
            "position_bias needs the displayed positions of the answers and of the gold "
            "(columns 'position' and 'gold_position', as monoculture run writes them), or "
            "answers that are option letters (A, B, ...) or numbers (0, 1, ...) with gold "
            "labels, taken as shown in their own order; these responses have neither."
        )
    index = np.array(
        [_LETTERS.index(label) if letters else int(label) for label in labels], dtype=float
    )
    codes = responses.answers
    answer_positions = np.where(codes >= 0, index[np.maximum(codes, 0)], np.nan)
    gold_codes = responses.gold
    gold_positions = np.where(gold_codes >= 0, index[np.maximum(gold_codes, 0)], np.nan)
    return answer_positions, np.broadcast_to(gold_positions[:, None], codes.shape)


def _shares_kernel(
    positions: np.ndarray, agents: np.ndarray, n_agents: int, n_positions: int
) -> np.ndarray:
    """``(n_agents, n_positions)`` counts of ``positions`` (ints) per agent."""
    flat = np.bincount(agents * n_positions + positions, minlength=n_agents * n_positions)
    return flat.reshape(n_agents, n_positions).astype(np.float64)


def position_bias(responses: Responses) -> pd.DataFrame:
    """Per agent: the share of its answers at each displayed position, the share of the gold
    answers at each position on the same items, and a bias index.

    Counted over the cells where the agent answered and both positions are known (cloze
    answers and free answers show no positions and are left out). Positions come from the
    ``position`` and ``gold_position`` attributes (0-based) that experiments record; without
    them, answers that are letters (or option numbers) are taken as shown in their own order
    (``A`` or ``0`` first).

    ``bias_index`` is the total variation distance between the two distributions,
    ``0.5 * sum_k |share_k - gold_share_k|``: 0 when the answers fall on the positions as
    the gold answers do, 1 when they all fall where no gold answer is. An agent that always
    answers the first of four balanced options scores 0.75; one that answers at random
    scores near 0 (at random, but not biased); a perfect agent scores 0.

    Returns:
        DataFrame indexed by agent: ``answered`` (cells counted), ``share_1 .. share_K``,
        ``gold_share_1 .. gold_share_K`` (positions 1-based), ``top_position``,
        ``top_share`` and ``bias_index``. NaN, with an `UndefinedMetricWarning`, for an
        agent with no counted cell.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(
        ...     answers=[[0, 0], [0, 1], [0, 2], [0, 3]], gold=[0, 1, 2, 3],
        ...     labels=["A", "B", "C", "D"])
        >>> position_bias(r)["bias_index"].tolist()
        [0.75, 0.0]
    """
    responses = check_responses(responses, "position_bias")
    answer_positions, gold_positions = _positions(responses)
    counted = (
        responses.observed
        & np.isfinite(answer_positions)
        & np.isfinite(gold_positions)
        & (responses.answers >= 0 if responses.answers is not None else True)
    )
    n_agents = responses.n_agents
    item_index, agent_index = np.nonzero(counted)
    chosen = answer_positions[item_index, agent_index].astype(np.int64)
    gold = gold_positions[item_index, agent_index].astype(np.int64)
    n_positions = int(max(chosen.max(initial=-1), gold.max(initial=-1)) + 1) or 1
    answer_counts = _shares_kernel(chosen, agent_index, n_agents, n_positions)
    gold_counts = _shares_kernel(gold, agent_index, n_agents, n_positions)
    answered = answer_counts.sum(axis=1)
    shares = safe_divide(answer_counts, answered[:, None])
    gold_shares = safe_divide(gold_counts, answered[:, None])
    bias = 0.5 * np.abs(shares - gold_shares).sum(axis=1)
    bias[answered == 0] = np.nan
    top = np.where(answered > 0, shares.argmax(axis=1) + 1.0, np.nan)
    warn_undefined(bias, "position_bias", "an agent with no answer at a known position")
    frame = pd.DataFrame(index=pd.Index(responses.agents, name="agent"))
    frame["answered"] = answered.astype(np.int64)
    for k in range(n_positions):
        frame[f"share_{k + 1}"] = shares[:, k]
    for k in range(n_positions):
        frame[f"gold_share_{k + 1}"] = gold_shares[:, k]
    frame["top_position"] = top
    frame["top_share"] = np.where(answered > 0, shares.max(axis=1), np.nan)
    frame["bias_index"] = bias
    return frame
