"""``monoculture run experiment.toml -o runs/NAME``: a swarm experiment with LLM agents."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from monoculture.cli._common import user_errors
from monoculture.cli.report import write_html
from monoculture.errors import InputError
from monoculture.experiment import ExperimentConfig, load_experiment, run_experiment
from monoculture.experiment.runner import ExperimentResult
from monoculture.experiment.runner import Progress as ProgressState
from monoculture.report.terminal import render


def _counts(progress: ProgressState) -> str:
    return (
        f"calls {progress.done}/{progress.planned}  cache hits {progress.cached}  "
        f"failures {progress.failed}  tokens {progress.tokens:,}"
    )


def execute(
    config: ExperimentConfig,
    output: Path,
    *,
    resume: bool,
    cache: Path | None,
    executor: str,
    console: Console,
) -> ExperimentResult:
    """Run with a live status line, then print and write the analyses."""
    if executor not in ("local", "ray"):
        raise InputError(f"--executor must be 'local' or 'ray'; got {executor!r}.")
    if (output / "ledger.sqlite").exists() and not resume:
        raise InputError(
            f"{output} holds an earlier run; continue it with --resume or choose another -o."
        )
    started = time.monotonic()
    if sys.stderr.isatty():
        columns = [
            TextColumn("calls"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "cache hits {task.fields[cached]}  failures {task.fields[failed]}"
                "  tokens {task.fields[tokens]:,}"
            ),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("calls", total=None, cached=0, failed=0, tokens=0)

            def update(p: ProgressState) -> None:
                bar.update(
                    task,
                    completed=p.done,
                    total=p.planned,
                    cached=p.cached,
                    failed=p.failed,
                    tokens=p.tokens,
                )

            result = run_experiment(
                config,
                output,
                cache=cache,
                executor=executor,  # type: ignore[arg-type]
                progress=update,
            )
    else:
        result = run_experiment(config, output, cache=cache, executor=executor)  # type: ignore[arg-type]
    seconds = time.monotonic() - started
    write_run(result, output)
    console.print(
        f"[bold]{config.name}[/bold] ({config.topology}): "
        f"{_counts(result.progress)} in {seconds:.1f} s"
    )
    rounds = sorted(result.analyses)
    for round_ in (rounds[0], rounds[-1]) if len(rounds) > 1 else rounds:
        console.rule(f"round {round_}")
        render(result.analyses[round_], console)
        write_html(result.analyses[round_].to_document(), output / f"report-round-{round_}.html")
    if len(result.conformity):
        table = Table(title="Conformity in debate rounds")
        for column in result.conformity.columns:
            table.add_column(column, justify="right")
        for row in result.conformity.itertuples(index=False):
            table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)
    if len(result.oversight):
        console.print(result.oversight.to_string(index=False))
    for note in result.notes:
        console.print(f"note: {note}")
    console.print(
        f"Wrote {output}/ (ledger.sqlite, outcomes.csv, analysis-round-*.json, report-round-*.html)"
    )
    return result


def write_run(result: ExperimentResult, output: Path) -> None:
    """The run's files next to its ledger: outcomes.csv, analysis-round-N.json, and one CSV
    per topology table (conformity.csv and oversight.csv are always written, maybe empty)."""
    result.outcomes.drop(columns=["probs"]).to_csv(output / "outcomes.csv", index=False)
    for round_, analysis in result.analyses.items():
        (output / f"analysis-round-{round_}.json").write_text(analysis.to_json())
    tables = {"conformity": result.conformity, "oversight": result.oversight, **result.tables}
    for name, table in tables.items():
        table.to_csv(output / f"{name}.csv", index=False)


def run_command(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Run directory.")] = Path(
        "runs/experiment"
    ),
    resume: Annotated[bool, typer.Option(help="Continue a run in this directory.")] = False,
    cache: Annotated[Path | None, typer.Option(help="Shared cache file (SQLite).")] = None,
    executor: Annotated[str, typer.Option(help="'local' (asyncio) or 'ray'.")] = "local",
) -> None:
    """Run agents in a topology, cache and ledger every call, analyse every round."""
    console = Console()
    with user_errors():
        execute(
            load_experiment(config),
            output,
            resume=resume,
            cache=cache,
            executor=executor,
            console=console,
        )
