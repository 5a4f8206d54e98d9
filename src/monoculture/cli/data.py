"""``monoculture data``: list and download public item-level results.

``data get NAME`` downloads the files of a registered data set (resuming an interrupted
download), checks them against the checksums pinned in the registry, converts them to
``NAME/responses.parquet`` and renames the folder into place only when all of that
succeeded. Exit status 2 on an unknown name, an unpinned data set without ``--no-verify``, a
checksum mismatch, a server error or an interrupted transfer (run it again to resume).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monoculture.cli._common import print_plain, progress_bar, user_errors

app = typer.Typer(
    name="data",
    help="Download public item-level results (MMLU-Pro, ZeroEval, Open LLM Leaderboard).",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)


def _size(n: int) -> str:
    if n <= 0:
        return "size not known"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n:,.1f} GB"


@app.command("list")
def list_command() -> None:
    """List the registered data sets: name, files, size, whether checksums are pinned."""
    with user_errors():
        from monoculture.io import list_datasets

        console = Console()
        for ds in list_datasets():
            pinned = "pinned" if ds.pinned else "not pinned yet (get needs --no-verify)"
            print_plain(console, ds.name, style="bold")
            print_plain(console, f"  {ds.description}")
            print_plain(console, f"  {len(ds.files)} files, {_size(ds.size)}; checksums {pinned}")
            print_plain(console, f"  licence: {ds.licence}")


@app.command("get")
def get_command(
    name: Annotated[str, typer.Argument(help="A data set from `monoculture data list`.")],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Folder to create the data set in.")
    ] = Path("."),
    verify: Annotated[
        bool,
        typer.Option(
            "--verify/--no-verify",
            help="Check every file against its pinned SHA-256 (refuse unpinned ones).",
        ),
    ] = True,
    progress: Annotated[
        bool, typer.Option(help="Show progress (a bar on a terminal, else a line per file).")
    ] = True,
) -> None:
    """Download, verify and convert a public data set into OUT/NAME/responses.parquet."""
    with user_errors():
        from monoculture.io import get_dataset

        with progress_bar(progress) as update:
            folder = get_dataset(name, out, verify=verify, progress=update)
        console = Console()
        print_plain(console, f"{folder / 'responses.parquet'}")
        print_plain(console, f"analyse it with: monoculture analyze {folder / 'responses.parquet'}")
