"""What every command shares: turning deliberate errors into one message and exit 2."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from monoculture.errors import MonocultureError

stderr = Console(stderr=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a `MonocultureError` as one line on stderr and exit with status 2."""
    try:
        yield
    except MonocultureError as error:
        stderr.print(f"[bold red]error:[/bold red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar driven by ``update(stage, done, total)`` callbacks."""
    if not enabled or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    columns: list[Any] = [
        TextColumn("{task.description}"),
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
