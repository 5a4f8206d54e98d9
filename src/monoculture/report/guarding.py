"""The gate and the monitors of a run, as an HTML section (names escaped: they are data)."""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["guard_section"]


def _share(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * float(value):.1f}%"


def guard_section(guard: dict[str, Any]) -> str:
    """The gate's rule, guarantee and figures on the held-out decisions, and every alarm
    with the step at which it fired (`RoundGuard.to_dict()` without the per-item list)."""
    gate, figures = guard["gate"], guard["figures"]
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(cell))}</td>"
            for cell in (
                alarm["monitor"],
                alarm["signal"],
                alarm["step"],
                alarm["item_id"],
                alarm["run_length"],
            )
        )
        + "</tr>"
        for alarm in guard["alarms"]
    )
    alarms = (
        "<table id='alarms-table'><thead><tr><th>monitor</th><th>signal</th><th>step</th>"
        f"<th>item</th><th>run length</th></tr></thead><tbody>{rows}</tbody></table>"
        if guard["alarms"]
        else "<p class='note' id='alarms-table'>No monitor alarm in this round.</p>"
    )
    calibrated = (
        f"calibrated on {guard['n_calibration']:,} items of this round"
        if guard["n_calibration"]
        else "loaded from its file"
    )
    return (
        "<section id='guard'><h2>Gate and monitors</h2>"
        f"<p class='caption'>Answer when {html.escape(str(gate['score']))} &gt; "
        f"{html.escape(str(gate['threshold']))} ({html.escape(str(gate['method']))}; "
        f"{calibrated}), otherwise abstain and escalate. "
        f"{html.escape(str(guard['guarantee']))}.</p>"
        "<ul class='figures' id='guard-figures'>"
        f"<li>held-out decisions: {figures['n_items']:,}</li>"
        f"<li>abstained on (escalated): {_share(figures['abstention_rate'])}</li>"
        f"<li>quiet failures (answered and wrong): {_share(figures['quiet_failure_rate'])}, "
        f"{_share(figures['ungated_failure_rate'])} without the gate</li>"
        f"<li>accuracy when answered: {_share(figures['accuracy_when_answered'])}</li></ul>"
        f"{alarms}</section>"
    )
