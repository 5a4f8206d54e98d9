"""``monoculture probes calibrate``: which probe families do the models know, and with
which way of asking? Accuracy against chance per model, family and elicitation, with
intervals, so a swarm is measured on items where its agents beat chance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from monoculture.cli._common import print_plain, user_errors
from monoculture.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from monoculture.experiment.config import ExperimentConfig

app = typer.Typer(
    help="Generated probe families: calibrate them against the models.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _probes() -> None:
    """Generated probe families: calibrate them against the models."""


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def calibration_config(
    models: list[str],
    families: list[str],
    elicitations: list[str],
    *,
    n_items: int,
    seed: int,
    option_order: str,
) -> ExperimentConfig:
    """One greedy agent per model and elicitation, every item answered alone."""
    from monoculture.experiment.config import ExperimentConfig

    return ExperimentConfig.model_validate(
        {
            "name": "calibrate",
            "topology": "independent",
            "bootstrap": 0,
            "tasks": {"n_items": n_items, "families": families, "form": "choice", "seed": seed},
            "agents": {
                "backend": "local",
                "models": models,
                "elicitations": elicitations,
                "option_orders": [option_order],
                "temperatures": [0.0],
            },
            "endpoint": {"parallel": 1, "concurrency": 2},
        }
    )


def position_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per model and elicitation (letter and text): the share of answers at each displayed
    position and the bias index (`monoculture.metrics.position_bias`)."""
    import pandas as pd

    from monoculture.experiment.outcomes import round_responses
    from monoculture.metrics import position_bias

    rows = outcomes[outcomes["elicitation"] != "cloze"]
    if not len(rows):
        return pd.DataFrame()
    agents = rows.drop_duplicates("agent").set_index("agent")[["model", "elicitation"]]
    if rows["agent"].nunique() == 1:
        # A Responses needs two agents; position_bias works agent by agent, so a copy of
        # the one agent changes nothing in its row.
        rows = pd.concat([rows, rows.assign(agent=rows["agent"] + " (copy)")])
    bias = position_bias(round_responses(rows, 0, "calibrate"))
    return agents.join(bias).reset_index(drop=True)


@app.command("calibrate")
def calibrate_command(
    models: Annotated[
        str, typer.Option(help="Comma-separated local models.")
    ] = "SmolLM2-135M-Instruct,gemma-3-270m",
    families: Annotated[
        str, typer.Option(help="Comma-separated families, or the groups easy and hard.")
    ] = "easy",
    elicitation: Annotated[
        str, typer.Option(help="Comma-separated ways of asking: letter, text, cloze.")
    ] = "cloze,letter",
    items: Annotated[int, typer.Option(help="Items (cycling through the families).")] = 48,
    seed: Annotated[int, typer.Option(help="Seed of the generated items.")] = 0,
    option_order: Annotated[
        str,
        typer.Option(help="Option order for letter and text: fixed, shuffle_item, shuffle_agent."),
    ] = "shuffle_item",
    interval: Annotated[str, typer.Option(help="Interval: wilson or clopper-pearson.")] = "wilson",
    level: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Run folder (cache and ledger; reused).")
    ] = Path("runs/calibrate"),
) -> None:
    """Accuracy against chance per model, probe family and elicitation, with intervals."""
    from monoculture.experiment.runner import run_experiment
    from monoculture.tasks.calibration import calibration_table

    console = Console()
    with user_errors():
        if interval not in ("wilson", "clopper-pearson"):
            raise InputError(f"--interval must be wilson or clopper-pearson; got {interval!r}.")
        if not 0 < level < 1:
            raise InputError(f"--level must be between 0 and 1; got {level}.")
        try:
            config = calibration_config(
                _split(models),
                _split(families),
                _split(elicitation),
                n_items=items,
                seed=seed,
                option_order=option_order,
            )
        except ValueError as error:
            raise InputError(f"probes calibrate: {error}") from None
        result = run_experiment(config, output)
        table = calibration_table(result.outcomes, level=level, method=interval)  # type: ignore[arg-type]
        print_plain(
            console,
            f"Accuracy against chance ({len(result.outcomes)} calls, greedy; {interval} "
            f"{level:.0%} intervals; p: one-sided exact binomial test against chance)",
            style="bold",
        )
        for line in calibration_lines(table):
            print_plain(console, line)
        positions = position_table(result.outcomes)
        if len(positions):
            print_plain(console, "Answers by displayed position (letter and text):", style="bold")
            shares = [c for c in positions.columns if c.startswith("share_")]
            for row in positions.itertuples(index=False):
                values = " ".join(f"{getattr(row, c):.2f}" for c in shares)
                print_plain(
                    console,
                    f"  {row.model:24} {row.elicitation:7} shares {values}  "
                    f"bias index {row.bias_index:.2f}",
                )
        table.to_csv(output / "calibration.csv", index=False)
        print_plain(console, f"Wrote {output}/calibration.csv")


def calibration_lines(table: pd.DataFrame) -> list[str]:
    """The calibration table as aligned lines, one per model, family and elicitation."""
    lines = [
        f"  {'model':24} {'family':11} {'asked':7} {'n':>4} {'accuracy':>8} "
        f"{'interval':>15} {'chance':>6} {'p':>8}  above chance"
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"  {row.model:24} {row.family:11} {row.elicitation:7} {row.n:4d} "
            f"{row.accuracy:8.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]".ljust(70)
            + f" {row.chance:6.2f} {row.p_value:8.2g}  {'yes' if row.above_chance else 'no'}"
        )
    return lines
