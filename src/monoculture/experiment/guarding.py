"""The gate and the monitors an experiment names, applied to each answer round.

Per round: the items are split as for the aggregators (same seed); a gate (loaded, or
calibrated on the first part) answers or abstains on each held-out item; the monitors
replay the whole round as a stream of decisions, item by item. Every gate decision and
every alarm becomes a ledger row (kind ``gate`` or ``alarm``), so it is also in the signed
transparency log.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monoculture.aggregate import split_items
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.experiment.config import ExperimentConfig, GuardSpec
from monoculture.guard import (
    Gate,
    GateResult,
    apply_gate,
    calibrate_gate,
    decision_stream,
    load_gate,
    load_monitors,
    minimum_calibration_items,
    replay,
    score_items,
)
from monoculture.responses import Responses

__all__ = ["RoundGuard", "check_guard", "guard_round", "ledger_rows"]


@dataclass(frozen=True)
class RoundGuard:
    """What the gate and monitors did to one answer round.

    Attributes:
        gate: the gate used (loaded or calibrated on this round's calibration items).
        result: the gate on the held-out items (abstention and quiet-failure rates).
        decisions: one row per held-out item: ``item_id``, ``answer`` (label or empty),
            ``score``, ``decision`` (``answer`` or ``abstain``: escalated to a human),
            ``correct`` (1/0, NaN without gold).
        alarms: one row per alarm: ``monitor``, ``kind``, ``signal``, ``step`` (the item's
            position in the round), ``item_id``, ``run_length``; empty without monitors.
        n_calibration: items the gate was calibrated on (0 for a loaded gate).
    """

    gate: Gate
    result: GateResult
    decisions: pd.DataFrame
    alarms: pd.DataFrame
    n_calibration: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the gate, the figures, the decisions and the alarms."""
        decisions = self.decisions.astype(object).where(self.decisions.notna(), None)
        alarms = self.alarms.astype(object).where(self.alarms.notna(), None)
        return {
            "version": 1,
            "gate": self.gate.model_dump(mode="json"),
            "guarantee": self.gate.guarantee,
            "n_calibration": self.n_calibration,
            "figures": {
                k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in self.result.summary().items()
            },
            "decisions": decisions.to_dict(orient="records"),
            "alarms": alarms.to_dict(orient="records"),
        }


def check_guard(config: ExperimentConfig, n_items: int) -> None:
    """Everything about ``[guard]`` that can fail, checked before any call: the files load,
    and the calibration part of the items can certify a gate at (alpha, delta)."""
    spec = config.guard
    if spec is None:
        return
    if spec.gate is not None:
        gate = load_gate(spec.gate)
        if gate.score != spec.score:
            raise InputError(
                f"[guard] gate {spec.gate} was calibrated on the score {gate.score!r}, but "
                f"[guard] score is {spec.score!r}; set score = {gate.score!r}."
            )
    else:
        needed = minimum_calibration_items(alpha=spec.alpha, delta=spec.delta, method=spec.method)
        n_calibration = round(spec.calibration_share * n_items)
        if n_calibration < needed:
            raise InputError(
                f"{config.name}: [guard] calibrates on calibration_share x items = "
                f"{n_calibration} items, but alpha = {spec.alpha} and delta = {spec.delta} "
                f"need at least {needed}; use more items, a larger calibration_share, a "
                "larger alpha, or a gate calibrated before (gate = FILE)."
            )
        if n_items - n_calibration < 1:
            raise InputError(
                f"{config.name}: [guard] calibration_share {spec.calibration_share} leaves no "
                "item to gate; lower it."
            )
    if spec.monitors is not None:
        load_monitors(spec.monitors)


def guard_round(responses: Responses, spec: GuardSpec, *, seed: int) -> RoundGuard:
    """Gate the held-out items of ``responses`` and replay it through the monitors."""
    if spec.gate is not None:
        gate, calibration, held_out = load_gate(spec.gate), None, responses
    else:
        calibration, held_out = split_items(
            responses, train_share=spec.calibration_share, seed=seed
        )
        gate = calibrate_gate(
            score_items(calibration, score=spec.score),
            alpha=spec.alpha,
            delta=spec.delta,
            method=spec.method,
        )
    scores = score_items(held_out, score=spec.score)
    with warnings.catch_warnings():
        # A gate that answers nothing has no accuracy when answered: NaN, shown as n/a.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        result = apply_gate(gate, scores)
    labels = np.asarray((*held_out.labels, ""), dtype=object)
    decisions = pd.DataFrame(
        {
            "item_id": held_out.item_ids,
            "answer": labels[scores.answer],
            "score": scores.values,
            "decision": np.where(result.answered, "answer", "abstain"),
            "correct": scores.correct,
        }
    )
    alarms = pd.DataFrame(columns=["monitor", "kind", "signal", "step", "item_id", "run_length"])
    if spec.monitors is not None:
        stream = decision_stream(responses)
        found = replay(stream, load_monitors(spec.monitors)).alarms
        if len(found):
            found = found.assign(
                item_id=stream["item_id"].to_numpy()[found["step"].to_numpy(dtype=int)]
            )
            alarms = found[["monitor", "kind", "signal", "step", "item_id", "run_length"]]
    n_calibration = 0 if calibration is None else calibration.n_items
    return RoundGuard(gate, result, decisions, alarms.reset_index(drop=True), n_calibration)


def ledger_rows(run_id: str, round_: int, guard: RoundGuard) -> list[dict[str, Any]]:
    """Ledger rows: one per gate decision (kind ``gate``), one per alarm (kind ``alarm``)."""
    now = time.time()
    gate = {"score": guard.gate.score, "threshold": guard.gate.threshold}
    base: dict[str, Any] = {
        "run": run_id,
        "key": None,
        "agent": "swarm",
        "round": round_,
        "request": gate,
    }
    base |= {"status": "ok", "error": None, "attempts": 0, "latency": 0.0}
    base |= {"prompt_tokens": 0, "completion_tokens": 0, "time": now}
    rows = []
    for row in guard.decisions.to_dict(orient="records"):
        score = float(row["score"])
        rows.append(
            base
            | {
                "item": str(row["item_id"]),
                "kind": "gate",
                "response": {
                    "decision": row["decision"],
                    "answer": row["answer"] or None,
                    "score": score if np.isfinite(score) else None,
                },
            }
        )
    for alarm in guard.alarms.to_dict(orient="records"):
        rows.append(
            base
            | {
                "item": str(alarm["item_id"]),
                "kind": "alarm",
                "response": {
                    "monitor": alarm["monitor"],
                    "monitor_kind": alarm["kind"],
                    "signal": alarm["signal"],
                    "step": int(alarm["step"]),
                    "run_length": int(alarm["run_length"]),
                },
            }
        )
    return rows
