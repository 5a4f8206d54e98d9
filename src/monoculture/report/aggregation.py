"""Aggregation results for people: a terminal table, and an HTML section/page.

Agent and method names come from user data or options: they go to rich as `Text` and to
HTML escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "aggregation_figure",
    "aggregation_section",
    "render_aggregation",
    "render_selection",
]


def _percent(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def render_aggregation(comparison: dict[str, Any], console: Console) -> None:
    """The comparison table of `AggregationComparison.to_dict()` on the terminal."""
    split = comparison["split"]
    level = split.get("level", 0.95)
    table = Table(
        title=Text(
            f"Aggregators on {split['n_test']:,} held-out items (fitted on "
            f"{split['n_train']:,}, seed {split['seed']})"
        ),
        title_justify="left",
    )
    table.add_column("method")
    for column in ("accuracy", f"{level:.0%} interval", "systemic", "quiet", "support"):
        table.add_column(column, justify="right", no_wrap=True)
    for method in comparison["methods"]:
        accuracy = method["accuracy"]
        table.add_row(
            Text(method["name"]),
            Text(_percent(accuracy["value"])),
            Text(f"{_percent(accuracy['ci_low'])}-{_percent(accuracy['ci_high'])}"),
            Text(_percent(method["systemic_failure"], 2)),
            Text(_percent(method["quiet_failure"], 2)),
            Text(_percent(method["mean_support"])),
        )
    console.print(table)
    console.print(
        Text(
            "systemic: wrong, with a majority of the agents behind the wrong answer; quiet: "
            "wrong, with at least 80 % behind it (no visible dissent); support: mean share "
            "of the agents behind the decision.",
            style="dim",
        ),
        soft_wrap=True,
    )
    dissent = comparison.get("dissent", {})
    if dissent.get("consensus_wrong") and dissent.get("mean_dissent_effective") is not None:
        console.print(
            Text(
                f"Dissent: where the plurality was wrong ({int(dissent['consensus_wrong']):,} "
                f"items), the strongest dissenting answer was right on "
                f"{_percent(dissent['dissent_right_when_consensus_wrong'])} of them; a dissent "
                f"had {dissent['mean_dissent_effective']:.1f} effective independent supporters "
                "on average."
            ),
            soft_wrap=True,
        )


def render_selection(selection: dict[str, Any], console: Console) -> None:
    """The diverse set against the top-k set (`SelectionComparison.to_dict()`)."""
    chosen = selection["selection"]
    split = selection["split"]
    console.print(
        Text(
            f"Chose {selection['k']} agents by {chosen['objective'].replace('_', ' ')} "
            f"({chosen['search']} search, {chosen['subsets_scored']:,} sets scored on "
            f"{split['n_train']:,} training items):"
        ),
        soft_wrap=True,
    )
    for name in chosen["agents"]:
        console.print(Text(f"  {name}"), soft_wrap=True)
    table = Table(title=Text(f"On {split['n_test']:,} held-out items"), title_justify="left")
    table.add_column("set")
    for column in ("agents", "vote accuracy", "all wrong", "mean kappa"):
        table.add_column(column, justify="right", no_wrap=True)
    rows = {row["set"]: row for row in selection["sets"]}
    for row in selection["sets"]:
        consistency = row["mean_error_consistency"]
        table.add_row(
            Text(row["set"]),
            Text(f"{len(row['agents'])}"),
            Text(_percent(row["vote_accuracy"])),
            Text(_percent(row["systemic_failure"], 2)),
            Text("n/a" if consistency is None else f"{consistency:.3f}"),
        )
    console.print(table)
    top = rows.get("top_k", {}).get("agents", [])
    same = set(top) == set(chosen["agents"])
    console.print(
        Text(
            "top_k, the most accurate on the training items: "
            + ("the same agents." if same else ", ".join(top))
        ),
        soft_wrap=True,
    )
    console.print(
        Text(
            "all wrong: held-out items on which every agent of the set is wrong; mean kappa: "
            "mean error consistency between the set's agents on the training items.",
            style="dim",
        ),
        soft_wrap=True,
    )


def aggregation_figure(comparison: dict[str, Any]) -> dict[str, Any]:
    """A plotly bar chart of held-out accuracy with its interval, one bar per method."""
    methods = comparison["methods"]
    names = [m["name"] for m in methods]
    values = [m["accuracy"]["value"] for m in methods]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": values,
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        m["accuracy"]["ci_high"] - v for m, v in zip(methods, values, strict=True)
                    ],
                    "arrayminus": [
                        v - m["accuracy"]["ci_low"] for m, v in zip(methods, values, strict=True)
                    ],
                },
                "marker": {"color": "#2563eb"},
                "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
            }
        ],
        "layout": {
            "height": 360,
            "margin": {"l": 60, "r": 20, "t": 20, "b": 60},
            "yaxis": {"title": {"text": "held-out accuracy"}, "tickformat": ".0%"},
        },
    }


def aggregation_section(comparison: dict[str, Any], figure_id: str) -> str:
    """The HTML section: a caption, the figure's placeholder and the comparison table."""
    split = comparison["split"]
    rows = []
    for m in comparison["methods"]:
        accuracy = m["accuracy"]
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(cell)}</td>"
                for cell in (
                    m["name"],
                    _percent(accuracy["value"]),
                    f"[{_percent(accuracy['ci_low'])}, {_percent(accuracy['ci_high'])}]",
                    _percent(m["systemic_failure"], 2),
                    _percent(m["quiet_failure"], 2),
                    _percent(m["mean_support"]),
                )
            )
            + "</tr>"
        )
    head = "".join(
        f"<th>{c}</th>"
        for c in (
            "method",
            "accuracy",
            "interval",
            "systemic failure",
            "quiet failure",
            "mean support",
        )
    )
    return (
        "<section id='aggregation'><h2>Aggregation on held-out items</h2>"
        f"<p class='caption'>Each method was fitted on {split['n_train']:,} items and decided "
        f"the other {split['n_test']:,} (seed {split['seed']}). Rules that count a bloc of "
        "agents who fail alike once (cluster, covariance) gain most where errors are "
        "correlated.</p>"
        f"<div class='figure' id='{figure_id}'></div>"
        f"<table id='aggregation-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )
