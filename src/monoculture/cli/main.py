"""Entry point of the ``monoculture`` command.

Commands load on first use: ``monoculture --help`` lists them from `COMMANDS` without
importing any, and ``monoculture analyze --help`` imports only the analyze module, whose
heavy imports (pandas, scipy, plotly, ...) wait inside the command function.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

# name: (module, function or typer.Typer with subcommands, the line `monoculture --help`
# shows; a test checks that it is the first line of the command's help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "analyze": (
        "monoculture.cli.analyze",
        "analyze_command",
        "Measure how correlated the agents' failures are, with confidence intervals.",
    ),
    "demo": ("monoculture.cli.demo", "demo_command", "Run the main job on the embedded defaults."),
    "report": (
        "monoculture.cli.report",
        "report_command",
        "Write a self-contained HTML report (works offline) from a saved analysis.",
    ),
    "simulate": (
        "monoculture.cli.simulate",
        "simulate_command",
        "Run a grid of simulations; write runs.parquet, steps.parquet and figures.",
    ),
    "aggregate": (
        "monoculture.cli.aggregate",
        "aggregate_command",
        "Compare aggregators (votes, Dawid-Skene, correlation-aware rules) on held-out items.",
    ),
    "select": (
        "monoculture.cli.aggregate",
        "select_command",
        "Choose k agents for diversity and compare them with the k most accurate.",
    ),
    "guard": (
        "monoculture.cli.guard",
        "app",
        "Gate a swarm's decisions with a guarantee; replay a stream through monitors.",
    ),
    "check": (
        "monoculture.cli.check",
        "check_command",
        "Check a swarm against a written policy; exit 1 when a rule fails.",
    ),
    "ledger": (
        "monoculture.cli.ledger",
        "app",
        "Verify, prove, sign and export a transparency log of decisions and calls.",
    ),
    "data": (
        "monoculture.cli.data",
        "app",
        "Download public item-level results (MMLU-Pro, ZeroEval, Open LLM Leaderboard).",
    ),
    "probes": (
        "monoculture.cli.probes",
        "app",
        "Generated probe families: calibrate them against the models.",
    ),
    "run": (
        "monoculture.cli.run",
        "run_command",
        "Run agents in a topology, cache and ledger every call, analyse every round.",
    ),
}


def load_command(name: str) -> TyperCommand | TyperGroup:
    """Import the command ``name`` and build its click command (help, options, callback).

    The attribute named in `COMMANDS` is a function (one command) or a `typer.Typer` (a
    command with subcommands, such as ``monoculture ledger verify``).
    """
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_command(target)
        if not isinstance(group, TyperGroup):
            raise TypeError(f"{module}.{attribute} has no subcommands.")
        group.name = name
        return group
    single = typer.Typer(add_completion=False, rich_markup_mode=None)
    single.command(name)(target)
    command = typer.main.get_command(single)
    if not isinstance(command, TyperCommand):  # one command and no callback: never a group
        raise TypeError(f"{module}.{attribute} did not build a single command.")
    command.name = name
    return command


class _LazyGroup(TyperGroup):
    """A group whose commands are placeholders (name and one line of help) until one runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, _, short_help) in COMMANDS.items():
            self.commands[name] = TyperCommand(name, short_help=short_help, help=short_help)

    # Context and Command are click's, which typer may vendor: typed loosely here.
    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            command = self.commands[name] = load_command(name)
        return name, command, rest


app = typer.Typer(
    name="monoculture",
    help="Measure and counter correlated failure in swarms of AI agents.",
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help text is plain: "[simulation]" in a help string is a TOML table, not markup.
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from monoculture import __version__

        typer.echo(f"monoculture {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Measure and counter correlated failure in swarms of AI agents."""


def main() -> None:
    app()
