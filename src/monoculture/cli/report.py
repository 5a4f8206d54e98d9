"""``monoculture report analysis.json -o report.html``: the HTML page from a saved analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monoculture.analysis_schema import AnalysisDocument, read_document
from monoculture.cli._common import user_errors
from monoculture.errors import InputError
from monoculture.report.html import render_html


def write_html(document: AnalysisDocument, path: Path) -> None:
    """Render and write the page; an unwritable path is a user error."""
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
) -> None:
    """Write a self-contained HTML report (works offline) from a saved analysis."""
    with user_errors():
        document = read_document(analysis)
        write_html(document, output)
        size = output.stat().st_size / 1e6
        Console().print(f"Wrote {output} ({size:.1f} MB)")
