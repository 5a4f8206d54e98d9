"""``monoculture simulate sweep.toml -o DIR``: run a simulation sweep, write tables and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from monoculture.cli._common import Executor, plural, print_plain, progress_bar, user_errors
from monoculture.errors import InputError


def simulate_command(
    config: Annotated[Path, typer.Argument(help="Sweep file (TOML): [simulation], [sweep].")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for results.")] = Path(
        "runs/simulation"
    ),
    executor: Annotated[
        Executor, typer.Option(help="local (threads in this process) or ray (Ray tasks).")
    ] = Executor.local,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to use (default: start a local one).")
    ] = None,
) -> None:
    """Run a grid of simulations; write runs.parquet, steps.parquet and figures."""
    console = Console()
    with user_errors():
        if output.exists() and not output.is_dir():
            raise InputError(f"-o {output}: is a file; give a directory for the results.")
        # Loaded here, not at the top, so that --help prints without them.
        from monoculture.simulate.sweep import load_sweep, run_sweep, save_sweep

        # load_sweep checks every cell and every figure's columns before anything runs.
        sweep = load_sweep(config)
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"-o {output}: cannot create it: {error.strerror}.") from None
        cells = len(sweep.cells())
        header = Text("Simulation", style="bold yellow")
        header.append(
            f" ({sweep.simulation.scenario}): {plural(cells, 'cell')} on "
            f"{executor.value}; results are synthetic by construction."
        )
        console.print(header, soft_wrap=True)
        with progress_bar(True) as update:
            update("cells", 0, cells)
            result = run_sweep(
                sweep,
                executor=executor.value,
                ray_address=ray_address,
                progress=lambda done, total: update("cells", done, total),
            )
        for path in save_sweep(result, output):
            print_plain(console, f"Wrote {path}")
