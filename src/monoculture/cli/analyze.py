"""``monoculture analyze FILE``: measure correlated failure in a file of responses."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from monoculture.cli._common import (
    FormatOption,
    InputFormat,
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
from monoculture.errors import InputError, MonocultureError

# The library's default (monoculture.metrics.QUIET_AGREEMENT) as shown by --help: importing
# metrics here would load scipy before help prints; a test checks the two agree.
QUIET_THRESHOLD_DEFAULT = 0.8

# monoculture._labels.AnswerNormalization, repeated so that --help loads no numpy; a test
# checks the two agree.
AnswerNormalization = Literal["auto", "none", "text", "number"]

# monoculture.analysis.DEFAULT_MEMORY_LIMIT_GB, repeated for --help like the two above.
MEMORY_LIMIT_DEFAULT = 8.0


def check_options(
    *,
    file: Path,
    agents: Path | None,
    items: Path | None,
    json_out: Path | None,
    html_out: Path | None,
    bootstrap: int,
    seed: int,
    quiet_threshold: float,
    policy: Path | None = None,
    format: InputFormat = "auto",
) -> None:
    """Every option and path the command takes, checked before any file is read (the
    policy file is read and checked here too: it is small, and its errors exit 2 before
    the data are read)."""
    from monoculture.io.tables import check_table_path

    if bootstrap < 0:
        raise InputError(f"--bootstrap must be >= 0 (0 = no intervals); got {bootstrap}.")
    if seed < 0:
        raise InputError(f"--seed must be >= 0; got {seed}.")
    if not (math.isfinite(quiet_threshold) and 0 < quiet_threshold <= 1):
        raise InputError(
            "--quiet-threshold is the share of votes agreeing with a wrong answer at or above "
            f"which it counts as quiet, so it must be in (0, 1]; got {quiet_threshold:g}. "
            f"Use e.g. {QUIET_THRESHOLD_DEFAULT:g} for {QUIET_THRESHOLD_DEFAULT:.0%}."
        )
    check_input(file, format)
    for path, option in ((agents, "--agents "), (items, "--items ")):
        if path is not None:
            try:
                check_table_path(path)
            except InputError as error:
                raise InputError(f"{option}{error}") from None
    inputs = (file, agents, items, policy)
    for out, option in ((json_out, "--json"), (html_out, "--html")):
        if out is not None:
            check_output_path(out, option, inputs=inputs)
    if json_out is not None and html_out is not None and json_out == html_out:
        raise InputError(f"--json and --html name the same file, {json_out}; give two paths.")
    if policy is not None:
        from monoculture.governance import load_policy

        try:
            load_policy(policy)
        except MonocultureError as error:
            raise InputError(f"--policy {error}") from None


def analyze_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Responses: a long table (CSV, TSV, JSONL or Parquet, .gz ok), an Inspect "
            "log or log folder, an lm-eval output folder, HELM run folders."
        ),
    ],
    agents: Annotated[
        Path | None, typer.Option("--agents", help="Agent attributes: agent, family, ...")
    ] = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="Item attributes: item_id, category, ...")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the analysis as JSON here.")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")
    ] = None,
    complete_only: Annotated[
        bool, typer.Option("--complete-only", help="Use only items every agent answered.")
    ] = False,
    bootstrap: Annotated[int, typer.Option(help="Item-bootstrap resamples (0 = none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for resampling.")] = 0,
    quiet_threshold: Annotated[
        float,
        typer.Option(
            help="Agreement in (0, 1] at or above which a wrong vote counts as quiet.",
        ),
    ] = QUIET_THRESHOLD_DEFAULT,
    item_col: Annotated[str, typer.Option(help="Item id column.")] = "item_id",
    agent_col: Annotated[str, typer.Option(help="Agent column.")] = "agent",
    answer_col: Annotated[str, typer.Option(help="Answer column.")] = "answer",
    correct_col: Annotated[str, typer.Option(help="Correctness (0/1) column.")] = "correct",
    gold_col: Annotated[str, typer.Option(help="Gold answer column.")] = "gold",
    probs_col: Annotated[str, typer.Option(help="Probabilities column (JSON list).")] = "probs",
    probs_prefix: Annotated[
        str, typer.Option(help="Prefix of one-column-per-option probabilities.")
    ] = "prob_",
    confidence_col: Annotated[str, typer.Option(help="Confidence column.")] = "confidence",
    answer_normalization: Annotated[
        AnswerNormalization,
        typer.Option(
            help="How answers are compared with gold where `correct` is empty: as written "
            "(none), case and spacing folded (text), as numbers (number, 75.00 = 75), or "
            "chosen from the labels (auto)."
        ),
    ] = "auto",
    strict_scoring: Annotated[
        bool,
        typer.Option(help="Refuse rows whose `correct` disagrees with answer == gold."),
    ] = False,
    memory_limit: Annotated[
        float,
        typer.Option(
            "--memory-limit",
            help="GB the analysis may use; larger swarms are refused before any work.",
        ),
    ] = MEMORY_LIMIT_DEFAULT,
    sample_agents: Annotated[
        int | None,
        typer.Option(
            "--sample-agents",
            help="Analyse a random sample of this many agents (seeded by --seed).",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Check this policy (TOML, docs/policy.md) against the data and show each "
            "rule's result. A failing rule does not change analyze's exit status; use "
            "`monoculture check --policy` as the CI gate.",
        ),
    ] = None,
    governance: Annotated[
        bool,
        typer.Option(
            help="Add decision power by group, concentration and pivotal shares when the "
            "agents have categorical attributes (family, developer, ...: --agents FILE).",
        ),
    ] = True,
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
    progress: Annotated[
        bool, typer.Option(help="Show progress (a bar on a terminal, else a line per stage).")
    ] = True,
) -> None:
    """Measure how correlated the agents' failures are, with confidence intervals.

    With categorical agent attributes (--agents FILE) it adds who holds the swarm's
    decisions (power by group, concentration, pivotal shares, single points of failure);
    with --policy, each rule's result. The exit status is 0 whatever the policy says:
    `monoculture check` is the CI gate.
    """
    with user_errors():
        check_options(
            file=file,
            agents=agents,
            items=items,
            json_out=json_out,
            html_out=html_out,
            bootstrap=bootstrap,
            seed=seed,
            quiet_threshold=quiet_threshold,
            policy=policy,
            format=format,
        )
        if policy is not None and not governance:
            raise InputError("--policy needs the governance part; leave out --no-governance.")
        if not (math.isfinite(memory_limit) and memory_limit > 0):
            raise InputError(f"--memory-limit must be a number of GB > 0; got {memory_limit:g}.")
        if sample_agents is not None and sample_agents < 2:
            raise InputError(f"--sample-agents must be at least 2; got {sample_agents}.")
        # Loaded here, not at the top, so that --help prints without them.
        from monoculture.analysis import analyze, check_memory
        from monoculture.cli.report import write_html
        from monoculture.governance import load_policy
        from monoculture.io import read_responses
        from monoculture.report.terminal import render

        rules = None if policy is None else load_policy(policy)

        console = Console()
        with progress_bar(progress) as update:
            update("reading", 0, 1)
            responses = read_responses(
                file,
                agents=agents,
                items=items,
                item_col=item_col,
                agent_col=agent_col,
                answer_col=answer_col,
                correct_col=correct_col,
                gold_col=gold_col,
                probs_col=probs_col,
                probs_prefix=probs_prefix,
                confidence_col=confidence_col,
                answer_normalization=answer_normalization,
                strict_scoring=strict_scoring,
                **reader_options(format, scorer, metric, task),
            )
            update("reading", 1, 1)
            if sample_agents is not None:
                responses = responses.sample_agents(sample_agents, seed=seed)
            check_memory(
                responses.n_items,
                responses.n_agents,
                memory_limit,
                document=json_out is not None or html_out is not None,
            )
            update("analysis", 0, 1)
            result = analyze(
                responses,
                bootstrap=bootstrap,
                seed=seed,
                complete_only=complete_only,
                quiet_threshold=quiet_threshold,
                progress=update,
                memory_limit_gb=memory_limit,
                governance=governance,
                policy=rules,
            )
            update("analysis", 1, 1)
        render(result, console)
        if json_out is not None:
            try:
                json_out.write_text(result.to_json() + "\n", encoding="utf-8")
            except OSError as error:
                raise InputError(f"--json {json_out}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {json_out}")
        if html_out is not None:
            write_html(result.to_document(), html_out)
            print_plain(console, f"Wrote {html_out}")
