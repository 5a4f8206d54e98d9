"""``monoculture report analysis.json -o report.html``: the HTML page from a saved analysis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from monoculture.cli._common import check_output_path, print_plain, user_errors
from monoculture.errors import InputError, ReadError

if TYPE_CHECKING:
    from monoculture.analysis_schema import AnalysisDocument


def write_html(document: AnalysisDocument, path: Path) -> None:
    """Render and write the page; an unwritable path is a user error."""
    from monoculture.report.html import render_html

    page = render_html(document)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot write the report: {error.strerror}.") from None


def report_command(
    analysis: Annotated[Path, typer.Argument(help="JSON from `monoculture analyze --json`.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o file.")] = False,
) -> None:
    """Write a self-contained HTML report (works offline) from a saved analysis."""
    with user_errors():
        if analysis.is_dir():
            raise ReadError(f"{analysis}: is a directory; give the JSON file written by --json.")
        check_output_path(output, "-o", inputs=(analysis,), force=force)
        from monoculture.analysis_schema import read_document

        document = read_document(analysis)
        write_html(document, output)
        size = output.stat().st_size / 1e6
        print_plain(Console(), f"Wrote {output} ({size:.1f} MB)")
