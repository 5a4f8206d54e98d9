"""``monoculture demo``: the main job on the embedded defaults.

By default: 12 local SmolLM2-135M agents (3 constitutions x 2 temperatures x 2 seeds) on 100
generated probes, an independent vote then a 2-round debate, analysed and reported
(``runs/demo``; a second run is served from the cache). ``--synthetic`` analyses a generated
latent-factor swarm instead, with no model.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monoculture.analysis import analyze
from monoculture.cli._common import progress_bar, user_errors
from monoculture.cli.run import execute
from monoculture.experiment.config import ExperimentConfig
from monoculture.report.terminal import render
from monoculture.synthetic import latent_swarm


def demo_config() -> ExperimentConfig:
    """The embedded demo experiment (src/monoculture/experiment/demo.toml, shipped in the
    package so that `make demo` runs from an installed copy too)."""
    import tomllib

    text = resources.files("monoculture.experiment").joinpath("demo.toml").read_text()
    return ExperimentConfig.model_validate(tomllib.loads(text))


def demo_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Run directory.")] = Path(
        "runs/demo"
    ),
    synthetic: Annotated[
        bool, typer.Option(help="Analyse a generated swarm instead of running the model.")
    ] = False,
    agents: Annotated[int, typer.Option(help="--synthetic: number of agents.")] = 12,
    items: Annotated[int, typer.Option(help="--synthetic: number of items.")] = 2000,
    seed: Annotated[int, typer.Option(help="--synthetic: seed of the swarm.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="--synthetic: bootstrap resamples.")] = 1000,
) -> None:
    """Run the main job on the embedded defaults."""
    console = Console()
    with user_errors():
        if not synthetic:
            console.print(
                "[bold]Demo[/bold]: 12 SmolLM2-135M agents on 100 generated probes, "
                f"independent vote then a 2-round debate -> {output}/"
            )
            execute(
                demo_config(), output, resume=True, cache=None, executor="local", console=console
            )
            return
        console.print(
            "[bold yellow]Synthetic data[/bold yellow]: "
            f"{agents} generated agents in 3 families sharing a latent blind spot, "
            f"{items} generated items (monoculture.synthetic.latent_swarm, seed {seed})."
        )
        swarm = latent_swarm(n_agents=agents, n_items=items, seed=seed)
        with progress_bar(True) as update:
            result = analyze(swarm, bootstrap=bootstrap, seed=seed, synthetic=True, progress=update)
        render(result, console)
