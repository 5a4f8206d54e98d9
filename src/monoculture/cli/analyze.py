"""``monoculture analyze FILE``: measure correlated failure in a file of responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monoculture.analysis import analyze
from monoculture.cli._common import progress_bar, user_errors
from monoculture.cli.report import write_html
from monoculture.errors import InputError
from monoculture.io import read_responses
from monoculture.metrics import QUIET_AGREEMENT
from monoculture.report.terminal import render


def analyze_command(
    file: Annotated[Path, typer.Argument(help="Responses: CSV, TSV, JSONL or Parquet (.gz ok).")],
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
        float, typer.Option(help="Agreement at or above which a wrong vote counts as quiet.")
    ] = QUIET_AGREEMENT,
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
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Measure how correlated the agents' failures are, with confidence intervals."""
    with user_errors():
        if bootstrap < 0:
            raise InputError(f"--bootstrap must be >= 0; got {bootstrap}.")
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
        )
        with progress_bar(progress) as update:
            result = analyze(
                responses,
                bootstrap=bootstrap,
                seed=seed,
                complete_only=complete_only,
                quiet_threshold=quiet_threshold,
                progress=update,
            )
        render(result, Console())
        if json_out is not None:
            try:
                json_out.write_text(result.to_json() + "\n")
            except OSError as error:
                raise InputError(f"--json {json_out}: cannot write: {error.strerror}.") from None
            Console().print(f"Wrote {json_out}")
        if html_out is not None:
            write_html(result.to_document(), html_out)
            Console().print(f"Wrote {html_out}")
