"""``monoculture check --policy POLICY TARGET``: a swarm against a written policy.

Exit status: 0 every rule passes; 1 a rule fails (or cannot be measured on the target,
unless the policy says ``unevaluable = "skip"``); 2 bad input (a policy with an unknown
rule, a wrong type or malformed TOML, named with its line; an unreadable target).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from monoculture.cli._common import (
    FormatOption,
    MetricOption,
    ScorerOption,
    TaskOption,
    check_input,
    check_output_path,
    print_plain,
    progress_bar,
    reader_options,
    user_errors,
)
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.analysis_schema import AnalysisDocument
    from monoculture.experiment.config import ExperimentConfig
    from monoculture.governance import PolicyReport, RuleResult
    from monoculture.responses import Responses

TargetKind = Literal["auto", "results", "analysis", "experiment"]
# monoculture._labels.AnswerNormalization, repeated so that --help loads no numpy.
AnswerNormalization = Literal["auto", "none", "text", "number"]

_KIND_NAMES = {
    "results": "results file",
    "analysis": "analysis JSON",
    "experiment": "experiment configuration",
}


def _number(x: float, rule: str) -> str:
    if not math.isfinite(x):
        return "-"
    if rule.startswith("min_") and rule != "min_effective_agents":
        return f"{x:,.0f}"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.2f}"


def _measured(result: RuleResult) -> str:
    text = _number(result.value, result.rule)
    if math.isfinite(result.ci_low) and math.isfinite(result.ci_high):
        low, high = _number(result.ci_low, result.rule), _number(result.ci_high, result.rule)
        text += f" [{low}, {high}]"
    if result.subject:
        text += f" {result.subject}"
    return text


def report_lines(report: PolicyReport) -> list[str]:
    """The report as plain lines: one per rule, then the verdict."""
    rows = [("status", "rule", "limit", "require", "measured")]
    for r in report.results:
        status = r.status.upper() if r.status == "fail" else r.status
        rows.append((status, r.rule, f"{r.comparison} {r.limit:g}", r.require, _measured(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        lines.append(f"{line}  {row[4]}".rstrip())
        if i > 0:
            detail = report.results[i - 1].detail
            if detail:
                lines.append(f"{'':{widths[0]}}  {detail}")
    failed = report.failed
    n = len(report.results)
    if failed:
        names = ", ".join(f"{r.rule} ({r.status})" for r in failed)
        lines.append(f"FAILED: {len(failed)} of {n} rules: {names}.")
    else:
        skipped = [r.rule for r in report.results if r.status != "pass"]
        extra = (
            f" ({len(skipped)} not measurable, skipped: {', '.join(skipped)})" if skipped else ""
        )
        lines.append(f"PASSED: {n - len(skipped)} of {n} rules{extra}.")
    return lines


def check_command(
    target: Annotated[
        Path,
        typer.Argument(
            help="Results (a long table, Inspect logs, lm-eval samples, HELM runs: a file or "
            "a folder), an analysis JSON (analyze --json) or an experiment configuration "
            "(.toml)."
        ),
    ],
    policy: Annotated[Path, typer.Option("--policy", help="The policy TOML file.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON here.")
    ] = None,
    kind: Annotated[
        TargetKind, typer.Option("--kind", help="What TARGET is (auto: by its name and content).")
    ] = "auto",
    agents: Annotated[
        Path | None, typer.Option("--agents", help="Agent attributes: agent, family, ...")
    ] = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="Item attributes: item_id, category, ...")
    ] = None,
    item_col: Annotated[str, typer.Option(help="Item id column.")] = "item_id",
    agent_col: Annotated[str, typer.Option(help="Agent column.")] = "agent",
    answer_col: Annotated[str, typer.Option(help="Answer column.")] = "answer",
    correct_col: Annotated[str, typer.Option(help="Correctness (0/1) column.")] = "correct",
    gold_col: Annotated[str, typer.Option(help="Gold answer column.")] = "gold",
    answer_normalization: Annotated[
        AnswerNormalization,
        typer.Option(help="How answers are compared with gold where `correct` is empty."),
    ] = "auto",
    strict_scoring: Annotated[
        bool, typer.Option(help="Refuse rows whose `correct` disagrees with answer == gold.")
    ] = False,
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
    progress: Annotated[
        bool, typer.Option(help="Show progress (a bar on a terminal, else a line per stage).")
    ] = True,
) -> None:
    """Check a swarm against a written policy; exit 1 when a rule fails."""
    with user_errors():
        from monoculture.governance import detect_target_kind, evaluate_policy, load_policy

        rules = load_policy(policy)  # policy errors first: they are cheap and exit 2
        if not target.exists():
            raise InputError(f"{target}: no such file.")
        if json_out is not None:
            check_output_path(json_out, "--json", inputs=(target, policy, agents, items))
        found = detect_target_kind(target) if kind == "auto" else kind
        if found == "results":
            check_input(target, format)  # a table, or a folder of evaluation logs
        if found != "results" and (agents is not None or items is not None):
            raise InputError(
                f"--agents and --items describe a results file; {target} is an "
                f"{_KIND_NAMES[found]}."
            )
        console = Console()
        with progress_bar(progress) as update:
            update("reading", 0, 1)
            subject: Responses | AnalysisDocument | ExperimentConfig
            if found == "experiment":
                from monoculture.experiment.config import load_experiment

                subject = load_experiment(target)
            elif found == "analysis":
                from monoculture.analysis_schema import read_document

                subject = read_document(target)
            else:
                from monoculture.io import read_responses

                subject = read_responses(
                    target,
                    agents=agents,
                    items=items,
                    item_col=item_col,
                    agent_col=agent_col,
                    answer_col=answer_col,
                    correct_col=correct_col,
                    gold_col=gold_col,
                    answer_normalization=answer_normalization,
                    strict_scoring=strict_scoring,
                    **reader_options(format, scorer, metric, task),
                )
            update("reading", 1, 1)
            update("checking", 0, 1)
            report = evaluate_policy(rules, subject, target_name=str(target))
            update("checking", 1, 1)
        print_plain(console, f"Policy {policy} on {target} ({_KIND_NAMES[found]})")
        for line in report_lines(report):
            print_plain(console, line)
        if json_out is not None:
            try:
                json_out.write_text(report.to_json() + "\n", encoding="utf-8")
            except OSError as error:
                raise InputError(f"--json {json_out}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {json_out}")
    raise typer.Exit(code=report.exit_code)
