"""Environment experiments through ``monoculture run``: every swarm design played on the
same environment and seeds, then compared, each next to its fitted simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from rich.console import Console

from monoculture.cli._common import print_plain
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.environments import DesignComparison
    from monoculture.experiment import ExperimentConfig
    from monoculture.ledger import SigningKey

__all__ = ["execute_environment"]


def execute_environment(
    config: ExperimentConfig,
    output: Path,
    *,
    resume: bool,
    cache: Path | None,
    executor: Literal["local", "ray"],
    console: Console,
    signing_key: SigningKey | None = None,
) -> DesignComparison:
    """Play every design of ``config`` (its ``[[environment.designs]]``, else its own
    agents as the one design named after the experiment) and write the comparison.

    A design's run goes to ``output/<design>/`` (its ledger, calls and long table), all
    designs sharing ``output/cache.sqlite`` (or ``cache``); without designs the run goes to
    ``output`` itself. Then ``output`` gets:

    - ``environment.parquet``: every design's long table, one row per (design, run,
      step, agent), with ``design`` first;
    - ``designs.csv``: one row per (design, source, metric) with its interval (``source``:
      ``llm`` for the agents' runs, ``simulator`` for the fitted simulator);
    - ``designs.json``: the same with the trajectories, the fitted parameters and notes;
    - ``report.html``: the figures side by side and the trajectories per design.
    """
    from monoculture.cli.run import execute
    from monoculture.environments import EnvironmentTopology, compare_designs
    from monoculture.experiment.store import recorded_calls
    from monoculture.report.environment import render_designs, render_environment_page

    assert config.environment is not None  # the caller routes environment experiments here
    designs = config.design_configs()
    folders: dict[str, tuple[ExperimentConfig, Path]] = {config.name: (config, output)}
    shared_cache = cache
    if designs:  # each in its own folder, all sharing one cache
        folders = {name: (design, output / name) for name, design in designs.items()}
        shared_cache = cache or output / "cache.sqlite"
    if not resume:  # every design's folder checked before the first design plays
        for _, folder in folders.values():
            earlier = recorded_calls(folder / "ledger.sqlite")
            if earlier:
                raise InputError(
                    f"{folder} holds an earlier run ({earlier} calls in its ledger); continue "
                    "it with --resume or choose another -o."
                )
    tables: dict[str, pd.DataFrame] = {}
    environments = {}
    for name, (design, folder) in folders.items():
        if designs:
            console.rule(f"design {name}", characters="=")
        result = execute(
            design,
            folder,
            resume=resume,
            cache=shared_cache,
            executor=executor,
            console=console,
            signing_key=signing_key,
        )
        tables[name] = result.tables.get("environment", pd.DataFrame())
        environments[name] = EnvironmentTopology.from_config(design).environment
    comparison = compare_designs(
        tables,
        environments,
        simulator_runs=config.environment.simulator_runs,
        seed=config.environment.seed,
    )
    played = [table.assign(design=name) for name, table in tables.items() if len(table)]
    if played:
        combined = pd.concat(played, ignore_index=True)
        combined = combined[["design", *[c for c in combined.columns if c != "design"]]]
        # One row per (design, run, step, agent): action, valid, the state before and after.
        combined.to_parquet(output / "environment.parquet", index=False)
    comparison.summary.to_csv(output / "designs.csv", index=False)
    document = comparison.to_dict()
    (output / "designs.json").write_text(json.dumps(document, indent=2, allow_nan=False))
    (output / "report.html").write_text(render_environment_page(document, config.name))
    console.rule("designs compared")
    render_designs(document, console)
    print_plain(
        console,
        f"Wrote {output}/ (environment.parquet, designs.csv, designs.json, report.html"
        + (", and one folder per design)" if designs else ")"),
    )
    return comparison
