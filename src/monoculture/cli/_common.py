"""What every command shares: one-line errors with exit 2, printing user text as data,
options checked before any work, and progress on a terminal or off it.

Rich reads ``[...]`` as markup and ``:name:`` as an emoji, so every string that holds a name,
a path or a message goes out through `print_plain` (a `rich.text.Text`), never as markup.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.text import Text

from monoculture.errors import InputError, MonocultureError

stderr = Console(stderr=True)


class Executor(StrEnum):
    """Where work runs: ``local`` (this process) or ``ray`` (Ray tasks, on a local instance
    or the cluster given)."""

    local = "local"
    ray = "ray"


def print_plain(console: Console, text: str, *, style: str = "") -> None:
    """Print ``text`` exactly as given (no markup, no emoji codes, never wrapped inside)."""
    console.print(Text(text, style=style), soft_wrap=True)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``plural(1, "row")`` -> ``"1 row"``; ``plural(1200, "row")`` -> ``"1,200 rows"``."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a `MonocultureError` as one line on stderr and exit with status 2."""
    try:
        yield
    except MonocultureError as error:
        line = Text("error:", style="bold red")
        line.append(f" {error}")
        stderr.print(line, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


def check_output_path(
    path: Path, option: str, *, inputs: tuple[Path | None, ...] = (), force: bool = True
) -> None:
    """Check, before any work, that ``path`` can be written: its folder exists, it is not a
    folder, it is not one of the ``inputs``, and (unless ``force``) it does not exist yet."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a directory; give a file name inside it.")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(
            f"{option} {path}: the folder {parent} does not exist; create it first or choose "
            "another path."
        )
    if not os.access(parent, os.W_OK):
        raise InputError(f"{option} {path}: the folder {parent} is not writable.")
    for given in inputs:
        if given is not None and given.exists() and path.exists() and path.samefile(given):
            raise InputError(
                f"{option} {path}: is also an input file and would be overwritten; choose "
                "another path."
            )
    if not force and path.exists():
        raise InputError(
            f"{option} {path}: the file exists; pass --force to overwrite it, or choose "
            "another path."
        )


class _StageLines:
    """Progress off a terminal: one plain line on stderr when a stage starts and one when
    it ends, so logs show where the time went without a bar's control codes."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.finished: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage not in self.started:
            self.started[stage] = now
            print_plain(stderr, f"{stage}: started" + (f" ({total:,} to do)" if total > 1 else ""))
        if done >= total and stage not in self.finished:
            self.finished.add(stage)
            seconds = now - self.started[stage]
            counts = f" {done:,}/{total:,}" if total > 1 else ""
            print_plain(stderr, f"{stage}: finished{counts} in {seconds:.1f} s")


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Progress driven by ``update(stage, done, total)`` callbacks: a rich bar when stderr
    is a terminal, otherwise one plain line per stage start and finish."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    if not sys.stderr.isatty():
        yield _StageLines()
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[Any] = [
        # A stage name is ours, but keep it data all the same.
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=stderr, transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)

        yield update


# The column options every command that reads responses shares (names as in read_responses).
ItemColOption = Annotated[str, typer.Option(help="Item id column.")]
AgentColOption = Annotated[str, typer.Option(help="Agent column.")]
AnswerColOption = Annotated[str, typer.Option(help="Answer column.")]
GoldColOption = Annotated[str, typer.Option(help="Gold answer column.")]
CorrectColOption = Annotated[str, typer.Option(help="Correctness (0/1) column.")]
ProbsPrefixOption = Annotated[
    str, typer.Option(help="Prefix of one-column-per-option probabilities.")
]
ProgressOption = Annotated[
    bool, typer.Option(help="Show progress (a bar on a terminal, else a line per stage).")
]


# monoculture.io.InputFormat, repeated so that --help loads no numpy; a test checks that the
# two agree.
InputFormat = Literal["auto", "long", "inspect", "lm_eval", "helm", "monoculture"]

FormatOption = Annotated[
    InputFormat,
    typer.Option(
        "--format",
        help="Input format; auto detects it from the content: a long table, Inspect logs "
        "(.eval/.json, a log folder), lm-evaluation-harness samples (a file or output "
        "folder), HELM run folders, or a monoculture Parquet file.",
    ),
]
ScorerOption = Annotated[
    str | None,
    typer.Option(help="Inspect logs: the scorer (NAME or NAME:KEY) that says right or wrong."),
]
MetricOption = Annotated[
    str | None,
    typer.Option(help="lm-eval or HELM: the metric that says right or wrong (e.g. acc)."),
]
TaskOption = Annotated[
    str | None, typer.Option(help="Inspect, lm-eval or HELM: the task when there are several.")
]


def reader_options(
    format: InputFormat, scorer: str | None, metric: str | None, task: str | None
) -> dict[str, Any]:
    """The keyword arguments of `monoculture.io.read_responses` these options give."""
    return {"format": format, "scorer": scorer, "metric": metric, "task": task}


def check_input(path: Path, format: InputFormat, option: str = "") -> None:
    """Check the responses input before anything is read (a file, or a folder of logs)."""
    from monoculture.io import check_responses_path

    try:
        check_responses_path(path, format=format)
    except InputError as error:
        raise InputError(f"{option}{error}") from None
