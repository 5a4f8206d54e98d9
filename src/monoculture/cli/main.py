"""Entry point of the ``monoculture`` command."""

from __future__ import annotations

import typer

from monoculture.cli.analyze import analyze_command
from monoculture.cli.demo import demo_command
from monoculture.cli.report import report_command
from monoculture.cli.run import run_command
from monoculture.cli.simulate import simulate_command

app = typer.Typer(
    name="monoculture",
    help="Measure and counter correlated failure in swarms of AI agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("analyze")(analyze_command)
app.command("demo")(demo_command)
app.command("report")(report_command)
app.command("simulate")(simulate_command)
app.command("run")(run_command)


def main() -> None:
    app()
