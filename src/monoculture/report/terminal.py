"""The terminal summary of an `Analysis`, drawn with rich.

Agent names, attribute names, paths and notes come from the user's files: they are passed
to rich as `Text`, never as markup, so ``a[/]`` or ``[red]x`` print as written.
"""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from monoculture.analysis import Analysis
from monoculture.analysis_schema import Interval
from monoculture.report._intervals import bounds_text, level_text

_FIGURES = [
    ("effective_agents", "effective independent agents", "{:.1f}"),
    ("icc", "intra-class correlation of errors", "{:.3f}"),
    ("mean_error_consistency", "mean error consistency (kappa)", "{:.3f}"),
    ("mean_same_wrong", "same wrong answer when both wrong", "{:.1%}"),
    ("systemic_failure_rate", "all agents wrong", "{:.2%}"),
    ("systemic_failure_rate_independent", "  ... if errors were independent", "{:.2g}"),
    ("plurality_accuracy", "plurality-vote accuracy", "{:.1%}"),
    ("plurality_accuracy_independent", "  ... if errors were independent", "{:.1%}"),
    ("best_agent_accuracy", "best single agent", "{:.1%}"),
    ("mean_agent_accuracy", "mean agent accuracy", "{:.1%}"),
    ("quiet_failure_share", "wrong votes that were quiet", "{:.1%}"),
]


def _cell(entry: Interval | float | None, fmt: str) -> tuple[str, str]:
    value = entry.value if isinstance(entry, Interval) else entry
    return ("n/a" if value is None else fmt.format(value)), bounds_text(entry, fmt)


def _add(table: Table, *cells: str) -> None:
    # Every cell as Text: names are data, and even "[nan, nan]" would read as markup.
    table.add_row(*(Text(cell) for cell in cells))


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def _best_agents(agents: pd.DataFrame) -> str:
    """The agent(s) with the highest accuracy, as the label of the best-agent figure."""
    if "accuracy" not in agents.columns:
        return ""
    accuracy = agents["accuracy"].astype(float)
    best = accuracy.max()
    if not math.isfinite(best):
        return ""
    names = [str(name) for name in accuracy.index[accuracy == best]]
    tied = f" and {_count(len(names) - 1, 'other')}, tied" if len(names) > 1 else ""
    return f" ({names[0]}{tied})"


def _pvalue(p: float) -> str:
    # Beyond z of about 38 the normal tail underflows double precision.
    return "< 1e-300" if p == 0 else f"{p:.1e}"


def render(analysis: Analysis, console: Console | None = None) -> None:
    """Print the verdict, the key figures with intervals, top pairs, clusters and input,
    and the governance part (power by group, pivotal shares, policy) when there is one."""
    console = console or Console()
    s = analysis.summary
    console.print(Text(analysis.verdict, style="bold"))
    info = analysis.input_summary
    left = sum(info.left_out.values())
    line = (
        f"Used {info.rows_used:,} of {_count(info.rows_read, 'row')}: "
        f"{_count(s.n_items, 'item')} x {_count(s.n_agents, 'agent')} "
        f"({s.n_complete_items:,} {'item' if s.n_complete_items == 1 else 'items'} "
        "scored by every agent)." + (f" Left out {_count(left, 'row')}:" if left else "")
    )
    console.print(Text(line))
    for reason, count in info.left_out.items():
        if count:
            console.print(Text(f"  - {_count(count, 'row')}: {reason}"))
    for note in info.notes:
        console.print(Text(f"  note: {note}"))

    table = Table(title=f"Key figures ({analysis.settings['interval_method']})")
    table.add_column("figure", overflow="fold")
    table.add_column("value", justify="right")
    table.add_column(f"{level_text(analysis.settings['level'])} interval", justify="right")
    for key, label, fmt in _FIGURES:
        value, ci = _cell(getattr(s, key), fmt)
        if key == "best_agent_accuracy":
            label += _best_agents(analysis.agents)
        _add(table, label, value, ci)
    if s.mean_same_wrong_independent is not None:
        _add(
            table,
            "  ... same wrong answer if errors were uniform",
            f"{s.mean_same_wrong_independent:.1%}",
            "",
        )
    for key, label in [
        ("fleiss_kappa", "Fleiss' kappa on answers"),
        ("krippendorff_alpha", "Krippendorff's alpha on answers"),
        ("mean_capa", "mean CAPA"),
        (
            "mean_difficulty_adjusted_error_consistency",
            "mean error consistency beyond item difficulty",
        ),
        ("aurc", "area under risk-coverage (abstain on disagreement)"),
    ]:
        number = s.value(key)
        if number is not None:
            _add(table, label, f"{number:.3f}", "")
    console.print(table)

    if len(analysis.top_pairs):
        pairs = Table(title="Most correlated pairs")
        level = level_text(analysis.settings["level"])
        # The pair column folds long names onto more lines rather than cutting them to
        # "...": two pairs sharing a long prefix must never print as the same text.
        pairs.add_column("pair", overflow="fold", ratio=1)
        for column in ("kappa", f"{level} CI", "copy prob.", "same wrong", "p-value"):
            pairs.add_column(column, justify="right", no_wrap=True)
        for row in analysis.top_pairs.head(8).to_dict(orient="records"):
            ci = ""
            if "error_consistency_ci_low" in row:
                low, high = row["error_consistency_ci_low"], row["error_consistency_ci_high"]
                ci = f"[{low:.2f}, {high:.2f}]"
            _add(
                pairs,
                f"{row['agent']} ~ {row['other']}",
                f"{row['error_consistency']:.3f}",
                ci,
                f"{row['copy_probability']:.2f}",
                f"{row['same_wrong_rate']:.1%}" if "same_wrong_rate" in row else "",
                _pvalue(row["error_consistency_pvalue"]),
            )
        console.print(pairs)

    found = analysis.clusters
    strength = (
        f"silhouette {found.silhouette:.2f}"
        + (", weak structure" if found.silhouette < 0.25 else "")
        if found.silhouette == found.silhouette
        else "chosen k"
    )
    clusters = Table(title=f"Clusters by error consistency ({found.n_clusters}; {strength})")
    clusters.add_column("cluster", justify="right")
    clusters.add_column("agents", overflow="fold")
    groups: dict[int, list[str]] = {}
    for name, cluster in analysis.clusters.labels.items():
        groups.setdefault(int(cluster), []).append(str(name))
    for number in sorted(groups):
        _add(clusters, str(number), ", ".join(groups[number]))
    console.print(clusters)

    if len(analysis.attributes):
        attrs = Table(title="Shared attributes and error consistency")
        for column in ("attribute", "shared", "not shared", "difference / r", "p"):
            if column == "attribute":
                attrs.add_column(column, overflow="fold")
            else:
                attrs.add_column(column, justify="right")
        for row in analysis.attributes.to_dict(orient="records"):
            if row["kind"] == "numeric":
                _add(
                    attrs,
                    str(row["attribute"]),
                    "",
                    "",
                    f"r = {row['correlation']:.2f}",
                    f"{row['p_value']:.3f}",
                )
            else:
                _add(
                    attrs,
                    str(row["attribute"]),
                    f"{row['mean_shared']:.3f}",
                    f"{row['mean_not_shared']:.3f}",
                    f"{row['difference']:+.3f}",
                    f"{row['p_value']:.3f}",
                )
        console.print(attrs)

    if analysis.governance is not None:
        from monoculture.report.governance import render_governance

        render_governance(analysis.governance, console)
