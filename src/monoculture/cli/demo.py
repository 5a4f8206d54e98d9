"""``monoculture demo``: the main job on embedded defaults (a synthetic swarm for now)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from monoculture.analysis import analyze
from monoculture.cli._common import progress_bar, user_errors
from monoculture.report.terminal import render
from monoculture.synthetic import latent_swarm


def demo_command(
    agents: Annotated[int, typer.Option(help="Number of synthetic agents.")] = 12,
    items: Annotated[int, typer.Option(help="Number of synthetic items.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic swarm.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
) -> None:
    """Analyse a SYNTHETIC swarm whose agents share a latent blind spot."""
    console = Console()
    with user_errors():
        console.print(
            "[bold yellow]Synthetic data[/bold yellow]: "
            f"{agents} generated agents in 3 families sharing a latent blind spot, "
            f"{items} generated items (monoculture.synthetic.latent_swarm, seed {seed})."
        )
        swarm = latent_swarm(n_agents=agents, n_items=items, seed=seed)
        with progress_bar(True) as update:
            result = analyze(swarm, bootstrap=bootstrap, seed=seed, synthetic=True, progress=update)
        render(result, console)
