"""An environment experiment's designs for people: a terminal table, and a page with the
trajectories of every design (its runs' spread as a band) next to its fitted simulator.

Design names come from the user's experiment file: they go to rich as `Text` and to HTML
escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["METRIC_LABELS", "environment_figures", "render_designs", "render_environment_page"]

METRIC_LABELS: dict[str, str] = {
    "survival_time": "survival time (months)",
    "survival_rate": "survival rate",
    "total_gain": "total gain (tons)",
    "gini": "Gini of gains",
    "over_usage": "over-usage share",
    "collective_sq_error": "collective squared error",
    "mean_sq_error": "mean individual squared error",
    "diversity": "diversity",
    "across_run_spread": "spread of the collective error across runs",
    "within_run_spread": "spread of estimates within a run",
    "coherence": "coherence (across / within)",
    "agreement": "agreement (pairs acting alike)",
    "decision_correlation": "decision correlation",
    "run_agreement": "runs alike (same agent, same step)",
    "valid_share": "answers that parsed",
}
"""Each figure of `compare_designs` in words."""

_QUANTITIES = {
    "pool": ("Fish in the lake at the start of each month", "tons (0 after a collapse)"),
    "collective": ("The swarm's mean estimate over time", "mean estimate"),
    "truth": ("The hidden quantity over time (the same draws for every design)", "truth"),
    "collective_error": (
        "Collective error (mean estimate − truth): its spread across runs is coherent drift",
        "collective error",
    ),
    "within_spread": ("Spread of the estimates within a run", "sd of the estimates"),
}
_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04")


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    value = float(value)
    if abs(value) < 1e-9:  # a Wilson bound at 0 comes out as 3e-17
        return "0"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _with_interval(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    text = _number(row.get("value"))
    if row.get("ci_low") is not None and row.get("ci_high") is not None:
        text += f" [{_number(row['ci_low'])}, {_number(row['ci_high'])}]"
    return text


def _rows(comparison: dict[str, Any]) -> tuple[list[str], list[str], dict[tuple[str, ...], Any]]:
    designs = [str(d) for d in dict.fromkeys(row["design"] for row in comparison["summary"])]
    metrics = [str(m) for m in dict.fromkeys(row["metric"] for row in comparison["summary"])]
    index: dict[tuple[str, ...], Any] = {
        (r["design"], r["source"], r["metric"]): r for r in comparison["summary"]
    }
    return designs, metrics, index


def render_designs(comparison: dict[str, Any], console: Console) -> None:
    """One table per design: each figure from the agents' runs and from the simulator
    fitted to them (`DesignComparison.to_dict()`)."""
    designs, metrics, index = _rows(comparison)
    for design in designs:
        llm_runs = next(
            (index[(design, "llm", m)]["n"] for m in metrics if (design, "llm", m) in index), 0
        )
        simulated = any((design, "simulator", m) in index for m in metrics)
        table = Table(
            title=Text(f"{design}: {llm_runs} run{'' if llm_runs == 1 else 's'} of the agents"),
            title_justify="left",
        )
        table.add_column("figure")
        table.add_column("agents [95 % interval]", justify="right")
        if simulated:
            table.add_column("fitted simulator", justify="right")
        for metric in metrics:
            cells = [Text(METRIC_LABELS.get(metric, metric))]
            cells.append(Text(_with_interval(index.get((design, "llm", metric)))))
            if simulated:
                cells.append(Text(_with_interval(index.get((design, "simulator", metric)))))
            table.add_row(*cells)
        console.print(table)
    for note in comparison.get("notes", []):
        console.print(Text(f"note: {note}", style="dim"), soft_wrap=True)


def environment_figures(comparison: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Plotly specifications, one per quantity of the trajectories: per design, the mean
    over its runs (solid) with the 10-90 % band across runs, and its fitted simulator's
    (dotted, lighter band)."""
    figures: dict[str, dict[str, Any]] = {}
    paths = comparison["trajectories"]
    quantities = list(dict.fromkeys(row["quantity"] for row in paths))
    designs = list(dict.fromkeys(row["design"] for row in paths))
    for quantity in quantities:
        data: list[dict[str, Any]] = []
        for k, design in enumerate(designs):
            colour = _COLOURS[k % len(_COLOURS)]
            for source, dash, opacity in (("llm", "solid", 0.18), ("simulator", "dot", 0.08)):
                rows = [
                    r
                    for r in paths
                    if r["design"] == design and r["source"] == source and r["quantity"] == quantity
                ]
                if not rows:
                    continue
                label = design if source == "llm" else f"{design} (fitted simulator)"
                steps = [r["step"] + 1 for r in rows]
                data.append(
                    {
                        "type": "scatter",
                        "x": steps + steps[::-1],
                        "y": [r["high"] for r in rows] + [r["low"] for r in rows][::-1],
                        "fill": "toself",
                        "fillcolor": colour,
                        "opacity": opacity,
                        "line": {"width": 0},
                        "hoverinfo": "skip",
                        "showlegend": False,
                        "legendgroup": label,
                    }
                )
                data.append(
                    {
                        "type": "scatter",
                        "mode": "lines+markers",
                        "name": label,
                        "legendgroup": label,
                        "x": steps,
                        "y": [r["mean"] for r in rows],
                        "line": {"color": colour, "dash": dash},
                        "hovertemplate": f"{html.escape(label)}: step %{{x}}, mean %{{y:.3g}}"
                        "<extra></extra>",
                    }
                )
        title, axis = _QUANTITIES.get(quantity, (quantity, quantity))
        figures[f"fig-{quantity}"] = {
            "data": data,
            "layout": {
                "height": 420,
                "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
                "plot_bgcolor": "white",
                "xaxis": {
                    "title": {"text": "month" if quantity == "pool" else "step"},
                    "gridcolor": "#e5e7eb",
                },
                "yaxis": {"title": {"text": axis}, "gridcolor": "#e5e7eb"},
                "title": {"text": title, "font": {"size": 14}},
            },
        }
    return figures


def render_environment_page(comparison: dict[str, Any], title: str) -> str:
    """A self-contained page: the designs' figures side by side (agents and fitted
    simulator, with intervals), the trajectories, the fitted parameters and the notes."""
    from monoculture.report.html import standalone_page

    designs, metrics, index = _rows(comparison)
    sources = ["llm"]
    if any(row["source"] == "simulator" for row in comparison["summary"]):
        sources.append("simulator")
    runs = {(row["design"], row["source"]): row["n"] for row in comparison["summary"] if row["n"]}

    def header(design: str, source: str) -> str:
        label = design if source == "llm" else f"{design} (fitted simulator)"
        count = runs.get((design, source))
        shown = f"<br><span class='note'>{count:,} runs</span>" if count else ""
        return html.escape(label) + shown

    head = "<th>figure</th>" + "".join(
        f"<th>{header(d, source)}</th>" for d in designs for source in sources
    )
    rows = []
    for metric in metrics:
        cells = [f"<td>{html.escape(METRIC_LABELS.get(metric, metric))}</td>"]
        for design in designs:
            for source in sources:
                text = _with_interval(index.get((design, source, metric)))
                cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = (
        f"<table id='designs-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    figures = environment_figures(comparison)
    blocks = "".join(f"<div class='figure' id='{fig_id}'></div>" for fig_id in figures)
    fitted = "".join(
        f"<li>{html.escape(design)}: "
        + html.escape(
            ", ".join(f"{k} = {_number(v) if isinstance(v, float) else v}" for k, v in p.items())
        )
        + "</li>"
        for design, p in comparison.get("fitted", {}).items()
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in comparison.get("notes", []))
    simulator_note = (
        " The fitted simulator is the parametric policy fitted to the design's one-step "
        "behaviour, played for as many runs as its column says."
        if "simulator" in sources
        else ""
    )
    body = f"""<h1>Swarm designs in the {html.escape(str(comparison["environment"]))}</h1>
<p class="note">{html.escape(title)}: every design played the same environment with the
same seeds. Intervals at 95 % over runs (t for means, Wilson for rates, percentile bootstrap
over runs for agreement, correlation and spreads).{simulator_note}</p>
<section><h2>Figures</h2><div class="scroll">{table}</div></section>
<section><h2>Trajectories</h2><p class="caption">Mean over runs (line) and the 10-90 %
band across runs; dotted: the fitted simulator.</p>{blocks}</section>
<section><h2>Fitted simulators</h2><ul class="note">{fitted or "<li>none</li>"}</ul></section>
{f'<section><h2>Notes</h2><ul class="note">{notes}</ul></section>' if notes else ""}"""
    return standalone_page(f"monoculture environment: {title}", body, figures)
