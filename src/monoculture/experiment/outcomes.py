"""Outcomes of calls as a table, and the `Responses` of each answer round."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from monoculture.io.long_table import responses_from_long
from monoculture.responses import Responses
from monoculture.tasks.extraction import gold_answer
from monoculture.topologies.protocol import Outcome

__all__ = ["outcome_table", "round_responses"]

_LONG_COLUMNS = [
    "item_id",
    "agent",
    "answer",
    "gold",
    "family",
    "round",
    "model",
    "constitution",
    "temperature",
    "seed",
    "role",
    "elicitation",
    "option_order",
    "position",
    "gold_position",
    "probs",
]


def outcome_table(outcomes: Sequence[Outcome]) -> pd.DataFrame:
    """One row per call, in the long table's column names: ``item_id``, ``agent``, round,
    kind, status, error, ``answer``, ``gold``, ``correct`` (NaN for a failed call), the
    item's family, the agent's settings (elicitation and option order among them), the
    displayed positions (0-based) of the answer and of the gold option (``position``,
    ``gold_position``; NaN where no options were shown: cloze, free answers), the displayed
    order (``order``, e.g. ``"2,0,3,1"``: the original index of each option shown; empty for
    the item's own order), and the option probabilities (a list by original letter, or None).

    A judge's answer is yes or no about another agent's answer: its row has no gold and no
    ``correct`` here (the oversight table scores judgements). A ``predict`` row (which
    option did a random other agent pick?) has no ``correct`` either."""
    rows = []
    for o in outcomes:
        agent, item = o.call.agent, o.call.item
        judge = o.call.kind == "judge"
        gold = None if judge else gold_answer(item)
        shows_options = bool(item.options) and o.call.form != "cloze" and not judge
        order = list(o.call.order) or list(range(len(item.options)))
        gold_position = (
            order.index(item.letters.index(item.answer))
            if shows_options and item.answer in item.letters
            else None
        )
        # A prediction of the others' answers is not itself right or wrong.
        scored = o.status != "failed" and o.call.kind not in ("judge", "predict")
        rows.append(
            {
                "item_id": item.id,
                "agent": agent.name,
                "round": o.call.round,
                "kind": o.call.kind,
                "judged_agent": o.call.judged_agent,
                "status": o.status,
                "error": o.error,
                "answer": o.answer,
                "gold": gold,
                "correct": float(o.answer == gold) if scored else float("nan"),
                "family": item.family,
                "n_options": len(item.options),
                "model": agent.model,
                "constitution": agent.constitution_name,
                "temperature": agent.temperature,
                "seed": agent.seed,
                "role": agent.role,
                "elicitation": agent.elicitation,
                "option_order": agent.option_order,
                "order": ",".join(map(str, o.call.order)),
                "position": float("nan") if o.position is None else float(o.position),
                "gold_position": float("nan") if gold_position is None else float(gold_position),
                "probs": None if o.probs is None else [o.probs[k] for k in item.letters],
            }
        )
    return pd.DataFrame(rows)


def _with_predictions(long: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Add each agent's predicted shares (its ``predict`` call's option probabilities, as a
    JSON object letter -> share) as the ``predicted_shares`` column, when there are any."""
    predicted = table[(table["kind"] == "predict") & (table["status"] != "failed")]
    if not len(predicted):
        return long
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def shares(row: pd.Series) -> str | None:
        if row["probs"] is not None and not (isinstance(row["probs"], float)):
            return json.dumps(dict(zip(letters, row["probs"], strict=False)))
        if row["answer"] is None or not isinstance(row["answer"], str):
            return None
        return json.dumps({row["answer"]: 1.0})  # no probabilities: all on the letter given

    column = predicted.assign(predicted_shares=predicted.apply(shares, axis=1))
    column = column[["item_id", "agent", "predicted_shares"]]
    return long.merge(column, on=["item_id", "agent"], how="left")


def round_responses(table: pd.DataFrame, round_: int, source: str) -> Responses:
    """The `Responses` of one answer round of an `outcome_table`; failed calls are left out
    and counted in the input summary."""
    rows = table[(table["kind"] == "answer") & (table["round"] == round_)]
    ok = rows[rows["status"] != "failed"]
    long = ok[_LONG_COLUMNS]
    if long["probs"].isna().any() or not len(long):
        long = long.drop(columns=["probs"])
    long = _with_predictions(long, table)
    failed = int((rows["status"] == "failed").sum())
    return responses_from_long(
        long,
        source=f"{source} round {round_}",
        left_out={"calls that failed after retries (see the ledger)": failed} if failed else None,
    )
