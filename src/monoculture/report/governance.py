"""The governance part of an analysis for people: terminal tables and an HTML section.

Reads the dictionary of `monoculture.governance.governance_summary` (the ``governance``
field of the analysis document); computes nothing. Group, attribute and rule names come
from user data: they go to rich as `Text` and to HTML escaped.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = [
    "governance_figure",
    "governance_section",
    "render_governance",
]

_CHECK_NOTE = (
    "Policy results are reported only: they do not change analyze's exit status. Use "
    "`monoculture check --policy FILE` as the CI gate."
)


def _share(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def _interval(estimate: dict[str, Any] | None) -> str:
    if not estimate:
        return ""
    low, high = estimate.get("ci_low"), estimate.get("ci_high")
    if low is None or high is None:
        return ""
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def _number(value: Any, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


def _concentration(entry: dict[str, Any]) -> str:
    effective = _number(entry["effective_groups_banzhaf"], "{:.2f}")
    effective_ss = _number(entry["effective_groups_shapley_shubik"], "{:.2f}")
    return (
        f"Concentration over {entry['n_groups']} {entry['attribute']} groups: HHI "
        f"{_number(entry['hhi_banzhaf'])} Banzhaf ({effective} effective groups), "
        f"{_number(entry['hhi_shapley_shubik'])} Shapley–Shubik ({effective_ss})."
    )


def single_point_lines(governance: dict[str, Any]) -> list[str]:
    """One sentence per single point of failure, for the terminal and the page alike."""
    lines = []
    for entry in governance["attributes"]:
        rows = {row["group"]: row for row in entry["groups"]}
        for group in entry["single_points_of_failure"]:
            flip = rows[group].get("flip_pivotal") or {}
            bounds = _interval(flip)
            lines.append(
                f"Single point of failure by {entry['attribute']}: {group}. Answering in "
                f"concert it changes the swarm's decision on {_share(flip.get('value'))}"
                f"{' ' + bounds if bounds else ''} of {entry['n_decided_items']:,} decided "
                f"items (more than {governance['single_point_share']:.0%})."
            )
    return lines


def _measured(result: dict[str, Any]) -> str:
    value = result.get("value")
    if value is None:
        return "n/a"
    text = f"{value:.3g}"
    low, high = result.get("ci_low"), result.get("ci_high")
    return text + (f" [{low:.3g}, {high:.3g}]" if low is not None and high is not None else "")


def _percent(value: Any) -> str:
    """A share as a percentage without the sign (the header says %)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * float(value):.1f}"


def _with_bounds(estimate: dict[str, Any]) -> str:
    low, high = estimate.get("ci_low"), estimate.get("ci_high")
    value = _percent(estimate.get("value"))
    if low is None or high is None:
        return value
    return f"{value} [{100 * low:.1f}-{100 * high:.1f}]"


def render_governance(governance: dict[str, Any], console: Console) -> None:
    """Power by group, concentration, pivotal shares and policy results on the terminal.

    Fits 80 columns; from 100 columns on, the removal share shows its interval too.
    """
    n, quota = governance["n_agents"], governance["quota"]
    pivotal = governance["pivotal_unavailable"] is None
    wide = console.width >= 100
    for entry in governance["attributes"]:
        table = Table(
            title=Text(
                f"Governance by {entry['attribute']} ({n} votes, majority {quota}, groups "
                "as blocs; shares in %)"
            ),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        longest = max((len(row["group"]) for row in entry["groups"]), default=8)
        table.add_column(
            Text(entry["attribute"]), overflow="fold", min_width=min(max(longest, 6), 16)
        )
        for column in ("n", "votes", "Banzhaf", "Shapley"):
            table.add_column(column, justify="right", no_wrap=True)
        if pivotal:
            table.add_column("removal", justify="right", no_wrap=True)
            table.add_column(f"flip [{_level(governance)}]", justify="right", no_wrap=True)
            table.add_column("", no_wrap=True)
        for row in entry["groups"]:
            cells = [
                row["group"],
                str(row["n_agents"]),
                _percent(row["vote_share"]),
                _percent(row["banzhaf"]),
                _percent(row["shapley_shubik"]),
            ]
            style = ""
            if pivotal:
                removal, flip = row["removal_pivotal"], row["flip_pivotal"]
                cells += [
                    _with_bounds(removal) if wide else _percent(removal["value"]),
                    _with_bounds(flip),
                    "SPOF" if row["single_point_of_failure"] else "",
                ]
                style = "bold red" if row["single_point_of_failure"] else ""
            table.add_row(*(Text(cell) for cell in cells), style=style)
        console.print(table)
        console.print(Text(_concentration(entry)), soft_wrap=True)
    if governance["attributes"]:
        if pivotal:
            console.print(
                Text(
                    "n: agents; votes: share of the agents; Banzhaf, Shapley "
                    "(Shapley–Shubik): share of the voting power (exact); removal, flip: "
                    "share of decided items on which removing the group, or its members "
                    "answering in concert, changes "
                    f"the decision (intervals: {governance['pivotal_method']}); SPOF: single "
                    f"point of failure (flip share above {governance['single_point_share']:.0%}).",
                    style="dim",
                ),
                soft_wrap=True,
            )
        else:
            console.print(
                Text(f"No pivotal shares: {governance['pivotal_unavailable']}.", style="dim"),
                soft_wrap=True,
            )
        for line in single_point_lines(governance):
            console.print(Text(line, style="bold red"), soft_wrap=True)
    if governance["skipped_attributes"]:
        skipped = "; ".join(
            f"{s['attribute']}: {s['reason']}" for s in governance["skipped_attributes"]
        )
        console.print(Text(f"Attributes not summarised: {skipped}.", style="dim"), soft_wrap=True)
    report = governance.get("policy")
    if report is not None:
        _render_policy(report, console)


def _level(governance: dict[str, Any]) -> str:
    match = re.search(r"level ([0-9.]+)", governance["pivotal_method"])
    return f"{float(match.group(1)) * 100:g} %" if match else "interval"


def _render_policy(report: dict[str, Any], console: Console) -> None:
    table = Table(
        title=Text(f"Policy {report['policy']}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("rule", no_wrap=True)
    table.add_column("limit", justify="right", no_wrap=True)
    table.add_column("measured [interval], where", overflow="fold")
    table.add_column("result", no_wrap=True)
    for result in report["rules"]:
        measured = _measured(result) + (f", {result['subject']}" if result["subject"] else "")
        failed = result["status"] == "fail"
        table.add_row(
            Text(result["rule"]),
            Text(f"{result['comparison']} {result['limit']:g}"),
            Text(measured),
            Text(result["status"].upper(), style="bold red" if failed else ""),
        )
    console.print(table)
    failed = [r for r in report["rules"] if r["status"] != "pass"]
    verdict = (
        "PASSED"
        if report["passed"]
        else f"FAILED ({len(failed)} of {len(report['rules'])} rules not passed)"
    )
    console.print(Text(f"Policy {verdict}. {_CHECK_NOTE}"), soft_wrap=True)


# ----------------------------------------------------------------------------- HTML
def governance_figure(entry: dict[str, Any]) -> dict[str, Any]:
    """A plotly grouped bar chart for one attribute: power shares and pivotal shares."""
    groups = [row["group"] for row in entry["groups"]]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "Banzhaf power",
            "x": groups,
            "y": [row["banzhaf"] for row in entry["groups"]],
            "marker": {"color": "#2563eb"},
            "hovertemplate": "%{x}: Banzhaf %{y:.1%}<extra></extra>",
        },
        {
            "type": "bar",
            "name": "Shapley–Shubik power",
            "x": groups,
            "y": [row["shapley_shubik"] for row in entry["groups"]],
            "marker": {"color": "#60a5fa"},
            "hovertemplate": "%{x}: Shapley–Shubik %{y:.1%}<extra></extra>",
        },
    ]
    if entry["groups"] and "flip_pivotal" in entry["groups"][0]:
        flips = [row["flip_pivotal"] for row in entry["groups"]]
        values = [f["value"] for f in flips]
        with_bounds = all(f["ci_low"] is not None and f["ci_high"] is not None for f in flips)
        flip_trace: dict[str, Any] = {
            "type": "bar",
            "name": "flip-pivotal share of decisions",
            "x": groups,
            "y": values,
            "marker": {"color": "#ea580c"},
            "hovertemplate": "%{x}: pivotal on %{y:.1%} of decisions<extra></extra>",
        }
        if with_bounds and all(v is not None for v in values):
            flip_trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [f["ci_high"] - f["value"] for f in flips],
                "arrayminus": [f["value"] - f["ci_low"] for f in flips],
            }
        traces.append(flip_trace)
    return {
        "data": traces,
        "layout": {
            "height": 380,
            "barmode": "group",
            "margin": {"l": 60, "r": 20, "t": 20, "b": 80},
            "font": {"family": "system-ui, sans-serif", "size": 12},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "xaxis": {"automargin": True},
            "yaxis": {"title": {"text": "share"}, "tickformat": ".0%", "rangemode": "tozero"},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 0.5,
                    "y1": 0.5,
                    "line": {"color": "#dc2626", "dash": "dot", "width": 1},
                }
            ],
        },
    }


def _html_table(entry: dict[str, Any], pivotal: bool, table_id: str) -> str:
    columns = [entry["attribute"], "agents", "votes", "Banzhaf", "Shapley–Shubik"]
    if pivotal:
        columns += ["removal-pivotal", "flip-pivotal", "interval", ""]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in entry["groups"]:
        cells = [
            row["group"],
            str(row["n_agents"]),
            _share(row["vote_share"]),
            _share(row["banzhaf"]),
            _share(row["shapley_shubik"]),
        ]
        if pivotal:
            removal, flip = row["removal_pivotal"], row["flip_pivotal"]
            cells += [
                f"{_share(removal['value'])} {_interval(removal)}".strip(),
                _share(flip["value"]),
                _interval(flip),
                "single point of failure" if row["single_point_of_failure"] else "",
            ]
        flagged = " class='spof'" if pivotal and row["single_point_of_failure"] else ""
        body.append(
            f"<tr{flagged}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        )
    return (
        f"<table id='{table_id}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _html_policy(report: dict[str, Any]) -> str:
    head = "".join(
        f"<th>{c}</th>" for c in ("rule", "limit", "measured [interval]", "subject", "result")
    )
    body = []
    for r in report["rules"]:
        cells = [
            r["rule"],
            f"{r['comparison']} {r['limit']:g}",
            _measured(r),
            r["subject"],
            r["status"],
        ]
        status = html.escape(r["status"].replace("/", ""), quote=True)
        detail = html.escape(r["detail"], quote=True)
        body.append(
            f"<tr class='{status}' title='{detail}'>"
            + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            + "</tr>"
        )
    verdict = "passed" if report["passed"] else "failed"
    return (
        f"<h3>Policy {html.escape(str(report['policy']))}: {verdict}</h3>"
        f"<table id='policy-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f"<p class='note'>{html.escape(_CHECK_NOTE)}</p>"
    )


def governance_section(governance: dict[str, Any], figure_ids: list[str]) -> str:
    """The HTML section: per attribute a caption, a figure placeholder (``figure_ids``, one
    per attribute) and the table; then single points of failure and the policy results."""
    pivotal = governance["pivotal_unavailable"] is None
    parts = [
        "<section id='governance'><h2>Governance: who holds the swarm's decisions</h2>",
        "<p class='caption'>The plurality vote as a game of groups voting as blocs "
        f"({governance['n_agents']} votes, majority {governance['quota']}): each group's "
        "share of the voting power (Banzhaf, Shapley–Shubik, exact) and, on the real "
        "answers, the share of decided items on which removing the group or its members "
        "answering in concert (flip) changes the decision"
        + (f" ({html.escape(governance['pivotal_method'])})" if pivotal else "")
        + ". Bars above the dotted line at 50 % mark a group that decides most items by "
        "itself.</p>",
    ]
    if not pivotal:
        reason = html.escape(governance["pivotal_unavailable"])
        parts.append(f"<p class='note'>No pivotal shares: {reason}.</p>")
    lines = single_point_lines(governance)
    if lines:
        parts.append(
            "<ul class='spof' id='single-points'>"
            + "".join(f"<li>{html.escape(line)}</li>" for line in lines)
            + "</ul>"
        )
    for k, entry in enumerate(governance["attributes"]):
        parts.append(
            f"<h3>By {html.escape(entry['attribute'])}</h3>"
            f"<div class='figure' id='{figure_ids[k]}'></div>"
            + _html_table(entry, pivotal, f"governance-table-{k}")
            + f"<p class='note'>{html.escape(_concentration(entry))}</p>"
        )
    if governance["skipped_attributes"]:
        skipped = "; ".join(
            f"{s['attribute']}: {s['reason']}" for s in governance["skipped_attributes"]
        )
        parts.append(f"<p class='note'>Attributes not summarised: {html.escape(skipped)}.</p>")
    if governance.get("policy") is not None:
        parts.append(_html_policy(governance["policy"]))
    parts.append("</section>")
    return "".join(parts)
