"""One self-contained HTML page from an analysis document: works offline, no CDN.

Everything is inlined: the styles, plotly.js, the figure specifications and a few lines
of script for sortable tables. The page renders what `analyze` measured; it computes no
metric (the dendrogram layout and block averages of large heatmaps are drawing only).
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
from scipy.cluster import hierarchy

from monoculture.analysis_schema import AnalysisDocument, Interval, Summary
from monoculture.report._intervals import level_text

__all__ = ["render_html"]

MAX_HEATMAP_CELLS = 150
"""Above this many agents a heatmap shows block means of consecutive agents."""

LABELLED_AGENTS = 60
"""Up to this many agents every heatmap row and column carries its name."""

_BLUE, _ORANGE, _GREY, _RED = "#2563eb", "#ea580c", "#6b7280", "#dc2626"


def _sentences(doc: AnalysisDocument) -> list[str]:
    """The key figures in plain words, each with its interval at the document's level."""
    s = doc.summary
    level = level_text(doc.settings.level)

    def _value(summary: Summary, key: str) -> float | None:
        return summary.value(key)

    def _interval(summary: Summary, key: str, fmt: str) -> str:
        entry = getattr(summary, key)
        if not isinstance(entry, Interval) or entry.ci_low is None or entry.ci_high is None:
            return ""
        return f" ({level} interval {fmt.format(entry.ci_low)} to {fmt.format(entry.ci_high)})"

    out = []
    n = s.n_agents
    eff, icc = _value(s, "effective_agents"), _value(s, "icc")
    if eff is not None and icc is not None and icc <= 0:
        out.append(
            f"The {n} agents show no evidence of correlated errors: the intra-class "
            f"correlation of their errors is {icc:.2f}{_interval(s, 'icc', '{:.2f}')}, so "
            f"they count as {n} independent agents, the most {n} agents can be."
        )
    elif eff is None:
        reason = doc.undefined.get("effective_agents", "no value for these data")
        out.append(f"The number of independent agents is undefined: {reason}.")
    else:
        out.append(
            f"The {n} agents carry as much independent information as {eff:.1f} independent "
            f"agents would{_interval(s, 'effective_agents', '{:.1f}')}: the intra-class "
            f"correlation of their errors is {_value(s, 'icc'):.2f}"
            f"{_interval(s, 'icc', '{:.2f}')}."
        )
    same, same_ind = _value(s, "mean_same_wrong"), s.mean_same_wrong_independent
    if same is not None:
        tail = (
            f"; independent errors spread over the wrong options would give {same_ind:.0%}"
            if same_ind is not None
            else ""
        )
        out.append(
            f"When two agents both fail, {same:.0%} of the time they give the same wrong "
            f"answer{_interval(s, 'mean_same_wrong', '{:.0%}')}{tail}."
        )
    systemic, systemic_ind = (
        _value(s, "systemic_failure_rate"),
        _value(s, "systemic_failure_rate_independent"),
    )
    if systemic is not None and systemic_ind is not None:
        out.append(
            f"All agents are wrong together on {systemic:.1%} of the items"
            f"{_interval(s, 'systemic_failure_rate', '{:.1%}')}; if their errors were "
            f"independent this would happen on {systemic_ind:.2g} of them."
        )
    vote, vote_ind, best = (
        _value(s, "plurality_accuracy"),
        _value(s, "plurality_accuracy_independent"),
        _value(s, "best_agent_accuracy"),
    )
    if vote is not None and best is not None:
        ind = (
            f"; independent agents with the same accuracies would reach {vote_ind:.1%}"
            if (vote_ind is not None)
            else ""
        )
        out.append(
            f"A plurality vote of the swarm is right {vote:.1%} of the time"
            f"{_interval(s, 'plurality_accuracy', '{:.1%}')}, against {best:.1%} for the best "
            f"single agent{ind}."
        )
    quiet = _value(s, "quiet_failure_share")
    if quiet is not None:
        out.append(
            f"Of the items where the vote is wrong, {quiet:.0%} are quiet failures: at least "
            f"{s.quiet_threshold:.0%} of the agents agree on the wrong answer"
            f"{_interval(s, 'quiet_failure_share', '{:.0%}')}, so no dissent signals the error."
        )
    kappa = _value(s, "mean_error_consistency")
    adjusted = s.mean_difficulty_adjusted_error_consistency
    if kappa is not None and adjusted is not None:
        out.append(
            f"The mean error consistency between two agents is {kappa:.2f}"
            f"{_interval(s, 'mean_error_consistency', '{:.2f}')}; once each item's difficulty "
            f"is accounted for (Rasch model) it is {adjusted:.2f}, the part specific to pairs "
            "and groups of agents rather than to hard items."
        )
    return out


# ----------------------------------------------------------------------------- figures
def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "closest",
    }
    base.update(extra)
    return base


def _blocks(n: int) -> list[np.ndarray]:
    if n <= MAX_HEATMAP_CELLS:
        return [np.array([k]) for k in range(n)]
    return [b for b in np.array_split(np.arange(n), MAX_HEATMAP_CELLS) if len(b)]


def _block_mean(matrix: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    out = np.full((len(blocks), len(blocks)), np.nan)
    for a, rows in enumerate(blocks):
        for b, cols in enumerate(blocks):
            cell = matrix[np.ix_(rows, cols)]
            if np.isfinite(cell).any():
                out[a, b] = np.nanmean(cell)
    return out


def _nullable(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if not np.isfinite(v) else round(float(v), 5) for v in row] for row in matrix]


def _heatmap(doc: AnalysisDocument, name: str, title: str) -> tuple[dict[str, Any], str] | None:
    matrices = doc.pairwise.matrices
    if name not in matrices:
        return None
    agents = doc.pairwise.agents
    values = np.array(matrices[name], dtype=float)
    np.fill_diagonal(values, np.nan)
    low = np.array(matrices.get(f"{name}_ci_low", values.tolist()), dtype=float)
    high = np.array(matrices.get(f"{name}_ci_high", values.tolist()), dtype=float)
    blocks = _blocks(len(agents))
    note = ""
    if len(blocks) < len(agents):
        values, low, high = (_block_mean(m, blocks) for m in (values, low, high))
        labels = [f"{agents[b[0]]} .. ({len(b)})" for b in blocks]
        note = (
            f" With {len(agents)} agents, each cell is the mean over a block of about "
            f"{len(agents) // len(blocks)} consecutive agents in dendrogram order."
        )
    else:
        labels = list(agents)
    has_ci = f"{name}_ci_low" in matrices
    custom = np.stack([low, high], axis=-1)
    hover = (
        "%{y} ~ %{x}<br>"
        + title
        + " %{z:.3f}"
        + (" [%{customdata[0]:.3f}, %{customdata[1]:.3f}]" if has_ci else "")
        + "<extra></extra>"
    )
    traces: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "z": _nullable(values),
            "x": labels,
            "y": labels,
            "customdata": [
                [[None if not np.isfinite(v) else round(float(v), 4) for v in cell] for cell in row]
                for row in custom
            ],
            "hovertemplate": hover,
            "colorscale": "Viridis",
            "xaxis": "x",
            "yaxis": "y",
            "colorbar": {"title": {"text": title}, "len": 0.75, "y": 0.375},
        }
    ]
    linkage = np.array(doc.clusters.linkage, dtype=float)
    if len(linkage) and len(blocks) == len(agents):
        tree = hierarchy.dendrogram(linkage, no_plot=True, labels=list(range(len(agents))))
        for xs, ys in zip(tree["icoord"], tree["dcoord"], strict=True):
            # scipy places leaf k at 5 + 10 k; the heatmap puts it at category k.
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [(x - 5) / 10 for x in xs],
                    "y": ys,
                    "line": {"color": _GREY, "width": 1},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "xaxis": "x2",
                    "yaxis": "y2",
                }
            )
    size = max(420, min(900, 14 * len(labels) + 200))
    with_tree = len(traces) > 1
    # Every agent labelled up to LABELLED_AGENTS (plotly would skip every other category);
    # beyond, names only on hover.
    ticks: dict[str, Any] = (
        {"tickmode": "array", "tickvals": labels}
        if len(labels) <= LABELLED_AGENTS
        else {"showticklabels": False}
    )
    if len(labels) > LABELLED_AGENTS:
        note += " Agent names are shown on hover."
    layout = _layout(
        height=size + 120,
        xaxis={"domain": [0, 1], "tickangle": -60, "automargin": True, "showgrid": False, **ticks},
        yaxis={
            "domain": [0, 0.78 if with_tree else 1.0],
            "autorange": "reversed",
            "automargin": True,
            **ticks,
        },
        xaxis2={
            "domain": [0, 1],
            "anchor": "y2",
            "visible": False,
            "range": [-0.5, len(labels) - 0.5],
        },
        yaxis2={"domain": [0.8, 1], "visible": False},
    )
    return {"data": traces, "layout": layout}, note


def _k_of_n(doc: AnalysisDocument) -> dict[str, Any] | None:
    if not doc.k_of_n:
        return None
    k = [row["k"] for row in doc.k_of_n]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "observed",
                "x": k,
                "y": [row["observed"] or None for row in doc.k_of_n],
                "line": {"color": _ORANGE},
                "hovertemplate": "%{x} agents fail: %{y:.3g} of items<extra>observed</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "independent errors",
                "x": k,
                "y": [row["independent"] or None for row in doc.k_of_n],
                "line": {"color": _BLUE, "dash": "dash"},
                "hovertemplate": "%{x} agents fail: %{y:.3g} of items<extra>independent</extra>",
            },
        ],
        "layout": _layout(
            height=420,
            xaxis={"title": {"text": "number of agents that fail an item"}},
            yaxis={"title": {"text": "share of items"}, "type": "log", "exponentformat": "power"},
        ),
    }


def _vote_curve(doc: AnalysisDocument) -> dict[str, Any] | None:
    if not doc.vote_curve:
        return None
    rows = doc.vote_curve
    size = [row["size"] for row in rows]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": size + size[::-1],
                "y": [row["vote_accuracy_p90"] for row in rows]
                + [row["vote_accuracy_p10"] for row in rows][::-1],
                "fill": "toself",
                "fillcolor": "rgba(234,88,12,0.15)",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": "10th-90th percentile of sub-swarms",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "plurality vote (observed)",
                "x": size,
                "y": [row["vote_accuracy"] for row in rows],
                "line": {"color": _ORANGE},
                "hovertemplate": "%{x} agents: %{y:.1%}<extra>observed</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "independent agents, same accuracies",
                "x": size,
                "y": [row["independent_accuracy"] for row in rows],
                "line": {"color": _BLUE, "dash": "dash"},
                "hovertemplate": "%{x} agents: %{y:.1%}<extra>independent</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "best single agent",
                "x": size,
                "y": [row["best_single_accuracy"] for row in rows],
                "line": {"color": _GREY, "dash": "dot"},
                "hoverinfo": "skip",
            },
        ],
        "layout": _layout(
            height=420,
            xaxis={"title": {"text": "agents voting (random sub-swarms)"}},
            yaxis={"title": {"text": "accuracy"}, "tickformat": ".0%"},
        ),
    }


def _risk_coverage(doc: AnalysisDocument) -> dict[str, Any] | None:
    rows = doc.risk_coverage
    if not rows:
        return None
    threshold = doc.settings.quiet_threshold
    quiet_x, quiet_y, quiet_text = [], [], []
    previous = 0.0
    for row in rows:  # every point of the curve is a scored agreement level: no nulls
        count = float(row["quiet_failures"] or 0.0)
        if count > previous:
            quiet_x.append(row["coverage"])
            quiet_y.append(row["risk"])
            quiet_text.append(
                f"{int(count - previous)} quiet failure(s) at agreement "
                f"{row['min_agreement'] or 0.0:.0%}"
            )
        previous = count
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "risk when abstaining below an agreement",
                "x": [row["coverage"] for row in rows],
                "y": [row["risk"] for row in rows],
                "line": {"color": _BLUE, "shape": "hv"},
                "customdata": [row["min_agreement"] for row in rows],
                "hovertemplate": "answer when agreement >= %{customdata:.0%}: coverage %{x:.0%}, "
                "error %{y:.1%}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"quiet failures (agreement >= {threshold:.0%})",
                "x": quiet_x,
                "y": quiet_y,
                "text": quiet_text,
                "marker": {"color": _RED, "size": 9, "symbol": "x"},
                "hovertemplate": "%{text}<extra></extra>",
            },
        ],
        "layout": _layout(
            height=420,
            xaxis={"title": {"text": "coverage (share of items answered)"}, "tickformat": ".0%"},
            yaxis={
                "title": {"text": "error rate of the answered items"},
                "tickformat": ".0%",
                "rangemode": "tozero",
            },
        ),
    }


def _numeric_attributes(doc: AnalysisDocument) -> str:
    parts = [
        f"{html.escape(str(row['attribute']))} (numeric): correlation of error consistency "
        f"with closeness r = {row['correlation']:.2f}, permutation p = {row['p_value']:.3f}"
        for row in doc.attributes
        if row.get("kind") == "numeric" and row.get("correlation") is not None
    ]
    return "; ".join(parts) + ("." if parts else "")


def _attributes(doc: AnalysisDocument) -> dict[str, Any] | None:
    categorical = [row for row in doc.attributes if row.get("kind") == "categorical"]
    if not categorical:
        return None
    names = [str(row["attribute"]) for row in categorical]
    return {
        "data": [
            {
                "type": "bar",
                "name": "pairs that share it",
                "x": names,
                "y": [row["mean_shared"] for row in categorical],
                "marker": {"color": _ORANGE},
                "customdata": [row["p_value"] for row in categorical],
                "hovertemplate": "%{x} shared: mean kappa %{y:.3f} "
                "(permutation p = %{customdata:.3f})<extra></extra>",
            },
            {
                "type": "bar",
                "name": "pairs that differ",
                "x": names,
                "y": [row["mean_not_shared"] for row in categorical],
                "marker": {"color": _BLUE},
                "hovertemplate": "%{x} differs: mean kappa %{y:.3f}<extra></extra>",
            },
        ],
        "layout": _layout(
            height=400, barmode="group", yaxis={"title": {"text": "mean error consistency"}}
        ),
    }


# ----------------------------------------------------------------------------- tables
def _cell(value: Any) -> tuple[str, str]:
    """(text, sort key) for a table cell."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "", ""
    if isinstance(value, float):
        return f"{value:.3f}", repr(value)
    return html.escape(str(value)), html.escape(str(value))


def _table(rows: list[dict[str, Any]], columns: list[str], table_id: str) -> str:
    head = "".join(f'<th data-col="{k}">{html.escape(c)}</th>' for k, c in enumerate(columns))
    body = []
    for row in rows:
        cells = []
        for column in columns:
            text, key = _cell(row.get(column))
            cells.append(f'<td data-sort="{key}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


# ----------------------------------------------------------------------------- page
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#111827;
 background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.5rem;margin:0 0 8px} h2{font-size:1.15rem;margin:32px 0 4px}
.verdict{font-size:1.2rem;font-weight:600;background:#fff7ed;border-left:4px solid #ea580c;
 padding:12px 16px;margin:12px 0}
.synthetic{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px;display:inline-block;
 font-weight:600;margin-bottom:8px}
.caption{color:#374151;margin:2px 0 8px;font-size:.95rem}
.note{color:#6b7280;font-size:.85rem}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 16px 16px;
 margin:16px 0}
ul.figures li{margin:6px 0}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left}
th{cursor:pointer;background:#f3f4f6;position:sticky;top:0}
th.asc::after{content:" \\25B2"} th.desc::after{content:" \\25BC"}
.scroll{max-height:460px;overflow:auto}
.figure{min-height:300px}
h3{font-size:1rem;margin:20px 0 4px}
tr.spof td,tr.fail td{color:#b91c1c;font-weight:600}
ul.spof{color:#b91c1c;font-weight:600}
"""

_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function(th){
  th.addEventListener('click',function(){
    var table=th.closest('table'),body=table.tBodies[0],col=+th.dataset.col;
    var asc=!th.classList.contains('asc');
    table.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc')});
    th.classList.add(asc?'asc':'desc');
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=a.cells[col].dataset.sort,y=b.cells[col].dataset.sort;
      var nx=parseFloat(x),ny=parseFloat(y);
      var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
      return asc?c:-c;});
    rows.forEach(function(r){body.appendChild(r)});
  });
});
var figures=JSON.parse(document.getElementById('figure-data').textContent);
Object.keys(figures).forEach(function(id){
  var spec=figures[id],el=document.getElementById(id);
  Plotly.newPlot(el,spec.data,spec.layout,{responsive:true,displaylogo:false})
    .then(function(){el.dataset.rendered=String(spec.data.length)});
});
"""


def render_html(document: AnalysisDocument) -> str:
    """The report page for an analysis document, as one self-contained HTML string."""
    from plotly.offline import get_plotlyjs  # plotly loads only when a page is written

    doc = document
    figures: dict[str, dict[str, Any]] = {}
    sections: list[str] = []

    def figure(
        fig_id: str,
        title: str,
        caption: str,
        spec: dict[str, Any] | None,
        missing: str,
        note: str = "",
    ) -> None:
        if spec is None:
            sections.append(f"<section><h2>{title}</h2><p class='note'>{missing}</p></section>")
            return
        figures[fig_id] = spec
        sections.append(
            f"<section><h2>{title}</h2><p class='caption'>{caption}</p>"
            f"<div class='figure' id='{fig_id}'></div>"
            + (f"<p class='note'>{note}</p>" if note else "")
            + "</section>"
        )

    heat = _heatmap(doc, "error_consistency", "kappa")
    figure(
        "fig-error-consistency",
        "Error consistency between agents",
        "Bright blocks are groups of agents that fail on the same items; the dendrogram "
        "above orders agents by it. Hover for the pair, kappa and its interval.",
        heat[0] if heat else None,
        "No error consistency was computed.",
        heat[1] if heat else "",
    )
    same = _heatmap(doc, "same_wrong_rate", "same wrong")
    figure(
        "fig-same-wrong",
        "Same wrong answer when both are wrong",
        "Look for pairs far above the uniform-error level: they do not just fail together, "
        "they give the same wrong answer, so a vote cannot outvote it.",
        same[0] if same else None,
        "Needs the agents' answers, not only correctness.",
        same[1] if same else "",
    )
    figure(
        "fig-k-of-n",
        "How many agents fail together",
        "On a log scale: the observed curve staying high at the right end, where the "
        "independence curve plunges, is why a majority vote does not save you.",
        _k_of_n(doc),
        "Needs items answered by every agent.",
    )
    figure(
        "fig-vote-curve",
        "Vote accuracy as the swarm grows",
        "If adding agents flattens the observed curve while the independent one keeps "
        "rising, the new agents bring no new information.",
        _vote_curve(doc),
        "No vote curve in this analysis.",
    )
    figure(
        "fig-risk-coverage",
        "Abstaining when the swarm disagrees",
        "Moving left, the swarm answers only items with more agreement; red crosses are "
        "quiet failures, wrong answers given with high agreement that abstaining cannot "
        "catch.",
        _risk_coverage(doc),
        "No item could be scored.",
    )
    figure(
        "fig-attributes",
        "Shared attributes and error consistency",
        "A taller orange bar means pairs that share the attribute (family, developer, ...) "
        "fail more alike; hover for the permutation p-value.",
        _attributes(doc),
        "No categorical agent attributes were given (use --agents FILE).",
        _numeric_attributes(doc),
    )

    if doc.aggregation is not None:
        from monoculture.report.aggregation import aggregation_figure, aggregation_section

        figures["fig-aggregation"] = aggregation_figure(doc.aggregation)
        sections.append(aggregation_section(doc.aggregation, "fig-aggregation"))

    if doc.guard is not None:
        from monoculture.report.guarding import guard_section

        sections.append(guard_section(doc.guard))

    if doc.governance is not None:
        from monoculture.report.governance import governance_figure, governance_section

        ids = [f"fig-governance-{k}" for k in range(len(doc.governance["attributes"]))]
        for fig_id, entry in zip(ids, doc.governance["attributes"], strict=True):
            figures[fig_id] = governance_figure(entry)
        sections.append(governance_section(doc.governance, ids))

    agent_rows = list(doc.agents)
    agent_columns = list(agent_rows[0].keys()) if agent_rows else []
    item_rows = list(doc.systemic_items)
    item_columns = [
        c
        for c in (
            "item_id",
            "category",
            "n_scored",
            "n_wrong",
            "share_wrong",
            "top_wrong_answer",
            "top_wrong_share",
            "gold",
        )
        if any(c in row for row in item_rows)
    ]
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in _sentences(doc))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in doc.input.notes)
    left_out = "".join(
        f"<li>{count:,} rows: {html.escape(reason)}</li>"
        for reason, count in doc.input.left_out.items()
        if count
    )
    summary = doc.summary
    cluster_note = (
        f"hierarchical clustering of error consistency, {doc.clusters.n_clusters} cluster(s)"
    )
    if doc.clusters.silhouette is not None:
        cluster_note += f", silhouette {doc.clusters.silhouette:.2f}"
    banner = (
        "<div class='synthetic'>SYNTHETIC DATA: generated agents, not observed ones</div>"
        if doc.input.synthetic
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>monoculture report: {html.escape(doc.input.source)}</title>
<style>{_STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body><main>
<h1>Correlated failure report</h1>
{banner}
<p class="note">{html.escape(doc.input.source)}: {doc.input.rows_used:,} of
{doc.input.rows_read:,} rows used, {summary.n_items:,} items x {summary.n_agents} agents.
{html.escape(doc.settings.interval_method)}. {html.escape(doc.generated_by)}.</p>
<div class="verdict" id="verdict">{html.escape(doc.verdict)}</div>
<section><h2>Key figures</h2><ul class="figures" id="key-figures">{sentences}</ul>
{f'<p class="note">Left out:</p><ul class="note">{left_out}</ul>' if left_out else ""}
{f'<ul class="note">{notes}</ul>' if notes else ""}</section>
<section><h2>Agents</h2><p class="caption">Click a column to sort. The cluster is the
group of agents that fail alike ({html.escape(cluster_note)}).</p>
<div class="scroll">{_table(agent_rows, agent_columns, "agents-table")}</div></section>
{"".join(sections)}
<section><h2>Items that fail most systemically</h2><p class="caption">The items failed by the
largest share of agents, with the most common wrong answer: a high share on one wrong answer
marks a shared misconception rather than scattered guessing.</p>
<div class="scroll">{_table(item_rows, item_columns, "items-table")}</div></section>
</main>
<script type="application/json" id="figure-data">{_json_for_script(figures)}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
    return page


def standalone_page(title: str, body: str, figures: dict[str, dict[str, Any]]) -> str:
    """A self-contained page: the report's styles, plotly.js and sortable tables around
    ``body`` (HTML, escaped by the caller), rendering ``figures`` (plotly specifications by
    element id); ``title`` is plain text."""
    from plotly.offline import get_plotlyjs

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body><main>
{body}
</main>
<script type="application/json" id="figure-data">{_json_for_script(figures)}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def render_aggregation_page(comparison: dict[str, Any]) -> str:
    """A self-contained page with the aggregator comparison alone (``aggregate --html``)."""
    from monoculture.report.aggregation import aggregation_figure, aggregation_section

    source = str(comparison["split"].get("source", ""))
    body = f"""<h1>Aggregators compared</h1>
<p class="note">{html.escape(source)}: {comparison["split"]["n_agents"]} agents.</p>
{aggregation_section(comparison, "fig-aggregation")}"""
    figures = {"fig-aggregation": aggregation_figure(comparison)}
    return standalone_page(f"monoculture aggregation: {source}", body, figures)


def _json_for_script(payload: Any) -> str:
    # "</" inside a script element would end it early; escape it.
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
