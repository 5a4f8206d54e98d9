"""``monoculture simulate sweep.toml -o DIR``: run a simulation sweep, write tables and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monoculture.cli._common import progress_bar, user_errors
from monoculture.errors import InputError
from monoculture.simulate.sweep import load_sweep, run_sweep, save_sweep


def simulate_command(
    config: Annotated[Path, typer.Argument(help="Sweep file (TOML): [simulation], [sweep].")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for results.")] = Path(
        "runs/simulation"
    ),
    executor: Annotated[str, typer.Option(help="'local' or 'ray'.")] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to use (default: start a local one).")
    ] = None,
) -> None:
    """Run a grid of simulations; write runs.parquet, steps.parquet and figures."""
    console = Console()
    with user_errors():
        if executor not in ("local", "ray"):
            raise InputError(f"--executor must be 'local' or 'ray'; got {executor!r}.")
        sweep = load_sweep(config)
        cells = len(sweep.cells()) or 1
        console.print(
            f"[bold yellow]Simulation[/bold yellow] ({sweep.simulation.scenario}): {cells} "
            f"cell(s) on {executor}; results are synthetic by construction."
        )
        with progress_bar(True) as update:
            result = run_sweep(
                sweep,
                executor=executor,  # type: ignore[arg-type]
                ray_address=ray_address,
                progress=lambda done, total: update("cells", done, total),
            )
        for path in save_sweep(result, output):
            console.print(f"Wrote {path}")
