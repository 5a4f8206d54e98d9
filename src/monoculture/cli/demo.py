"""``monoculture demo``: the main job on the embedded defaults.

By default: 12 local agents of two model families (SmolLM2-135M-Instruct and Gemma 3 270M)
on 100 easy-knowledge probes, each answering alone; half asked by cloze (where both models
beat chance), half for the option's letter (where both answer mostly by position), with the
options in a shared order or shuffled per agent. Analysed and reported (``runs/demo``; a
second run is served from the cache), with two comparisons: one model against two families,
and a shared option order against shuffled ones. Then the long-horizon part: GovSim's
fishing commons played by three swarm designs (homogeneous, five constitutions, two model
families; 6 runs each), compared next to their fitted simulators (``runs/demo/commons``);
``--long`` plays the commons with four designs and 20 runs and the drifting estimation
instead. ``--synthetic`` analyses a generated
latent-factor swarm instead, with no model; with ``-o DIR`` it writes the swarm
(``outcomes.csv``, a long table ``monoculture analyze`` reads), ``analysis.json`` and
``report.html`` there.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from monoculture.cli._common import print_plain, progress_bar, user_errors
from monoculture.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from monoculture.experiment.config import ExperimentConfig
    from monoculture.experiment.runner import ExperimentResult
    from monoculture.ledger import SigningKey
    from monoculture.responses import Responses


def demo_config(name: str = "demo.toml") -> ExperimentConfig:
    """An embedded demo experiment (src/monoculture/experiment/``name``, shipped in the
    package so that `make demo` runs from an installed copy too): ``demo.toml`` (the
    one-shot swarm), ``demo-commons.toml``, ``demo-long-commons.toml``,
    ``demo-long-estimation.toml``."""
    import tomllib

    from monoculture.experiment.config import ExperimentConfig

    text = resources.files("monoculture.experiment").joinpath(name).read_text()
    return ExperimentConfig.model_validate(tomllib.loads(text))


DEMO_ENVIRONMENTS = {
    False: (("commons", "demo-commons.toml"),),
    True: (
        ("commons-long", "demo-long-commons.toml"),
        ("estimation", "demo-long-estimation.toml"),
    ),
}
"""The environment experiments the demo plays after the one-shot swarm (``--long``: True),
as (folder under the demo's run folder, embedded file)."""


def demo_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Run directory (default runs/demo); with --synthetic, where to write the "
            "swarm, its analysis and report (nothing is written without it).",
        ),
    ] = None,
    synthetic: Annotated[
        bool, typer.Option(help="Analyse a generated swarm instead of running the model.")
    ] = False,
    agents: Annotated[int, typer.Option(help="--synthetic: number of agents.")] = 12,
    items: Annotated[int, typer.Option(help="--synthetic: number of items.")] = 2000,
    seed: Annotated[int, typer.Option(help="--synthetic: seed of the swarm.")] = 0,
    bootstrap: Annotated[int, typer.Option(help="--synthetic: bootstrap resamples.")] = 1000,
    long: Annotated[
        bool,
        typer.Option(
            "--long",
            help="Play longer environment runs: the commons with four designs and 20 runs, "
            "and the drifting estimation (Gemma 3, two designs, 8 runs of 8 steps), instead "
            "of the short commons (minutes more on 2 cores; served from the cache "
            "afterwards).",
        ),
    ] = False,
) -> None:
    """Run the main job on the embedded defaults."""
    from monoculture.analysis import analyze
    from monoculture.cli.report import write_html
    from monoculture.cli.run import execute
    from monoculture.io.long_table import responses_to_long
    from monoculture.report.terminal import render
    from monoculture.synthetic import latent_swarm

    console = Console()
    with user_errors():
        if not synthetic:
            folder = output or Path("runs/demo")
            config = demo_config()
            print_plain(
                console,
                f"Demo: {len(config.worker_specs())} agents of two model families "
                "(SmolLM2-135M-Instruct, Gemma 3 270M) on "
                f"{config.tasks.n_items} easy-knowledge probes, each answering alone -> "
                f"{folder}/",
            )
            key = _demo_key(folder)
            run = execute(
                config,
                folder,
                resume=True,
                cache=None,
                executor="local",
                console=console,
                signing_key=key,
            )
            _verify_ledger(folder, key, console)
            _check_policy(run, console)
            _compare_swarms(run, console)
            _play_environments(folder, key, console, long=long)
            return
        if long:
            raise InputError("--long plays the model's environments; leave out --synthetic.")
        if output is not None:  # checked before the analysis, not after it
            _writable_folder(output)
        console.print(
            "[bold yellow]Synthetic data[/bold yellow]: "
            f"{agents} generated agents in 3 families sharing a latent blind spot, "
            f"{items} generated items (monoculture.synthetic.latent_swarm, seed {seed})."
        )
        swarm = latent_swarm(n_agents=agents, n_items=items, seed=seed)
        with progress_bar(True) as update:
            result = analyze(swarm, bootstrap=bootstrap, seed=seed, synthetic=True, progress=update)
        render(result, console)
        if output is not None:
            try:
                responses_to_long(swarm).to_csv(output / "outcomes.csv", index=False)
                (output / "analysis.json").write_text(result.to_json() + "\n")
            except OSError as error:
                raise InputError(
                    f"-o {output}: cannot write the demo's files: {error.strerror}; choose a "
                    "writable folder."
                ) from None
            write_html(result.to_document(), output / "report.html")
            print_plain(console, f"Wrote {output}/ (outcomes.csv, analysis.json, report.html)")


def _play_environments(folder: Path, key: SigningKey, console: Console, *, long: bool) -> None:
    """The long-horizon part: each embedded environment experiment, its designs compared
    next to their fitted simulators, into ``folder/<name>/``."""
    from monoculture.cli.designs import execute_environment

    for name, file in DEMO_ENVIRONMENTS[long]:
        config = demo_config(file)
        console.rule(f"long horizon: {name}", characters="=")
        assert config.environment is not None  # the embedded files are environment experiments
        print_plain(
            console,
            f"{config.environment.kind}: {len(config.environment.designs)} swarm designs, "
            f"{config.environment.runs} runs each, on the same environment and seeds -> "
            f"{folder / name}/",
        )
        execute_environment(
            config,
            folder / name,
            resume=True,
            cache=None,
            executor="local",
            console=console,
            signing_key=key,
        )


def _demo_key(folder: Path) -> SigningKey:
    """The demo's signing key, beside the run folder (never inside it): made on first use."""
    from monoculture.ledger import SigningKey, load_signing_key, write_key_pair

    private = folder.parent / f"{folder.name}-ledger.key"
    if private.exists():
        return load_signing_key(path=private)
    _writable_folder(folder.parent)
    key = SigningKey.generate("monoculture.demo")
    write_key_pair(key, private, private.with_suffix(".pub"))
    return key


def _verify_ledger(folder: Path, key: SigningKey, console: Console) -> None:
    """Check every hash of the run's transparency log and its signed checkpoint."""
    from monoculture.ledger import TransparencyLog, open_checkpoint

    note = (folder / "ledger.checkpoint").read_text(encoding="utf-8")
    checkpoint = open_checkpoint(note, key.verifier(), source=str(folder / "ledger.checkpoint"))
    with TransparencyLog.open(folder / "ledger.sqlite", read_only=True) as log:
        verification = log.verify(checkpoint=checkpoint)
    console.rule("transparency log")
    if not verification.ok:
        raise InputError(f"{folder}/ledger.sqlite does not verify: {verification.problem}")
    print_plain(
        console,
        f"{folder}/ledger.sqlite: {verification.size:,} records verified, root "
        f"{verification.root.hex()[:16]}..., matching the checkpoint signed by "
        f"{checkpoint.origin}. Check it yourself: monoculture ledger verify "
        f"{folder}/ledger.sqlite --checkpoint {folder}/ledger.checkpoint --public-key "
        f"{folder.parent / (folder.name + '-ledger.pub')}",
    )


def _check_policy(result: ExperimentResult, console: Console) -> None:
    """The embedded sample policy against the last answer round (the report, not a gate)."""
    from monoculture._toml import read_toml
    from monoculture.cli.check import report_lines
    from monoculture.governance import evaluate_policy, parse_policy

    source = resources.files("monoculture.experiment").joinpath("demo-policy.toml")
    with resources.as_file(source) as path:
        raw, text = read_toml(path)
    policy = parse_policy(raw, text, source="demo-policy.toml")
    last = max(result.responses)
    report = evaluate_policy(policy, result.responses[last], target_name=f"round {last}")
    console.rule(f"policy check, round {last} (monoculture check is the CI gate)")
    for line in report_lines(report):
        print_plain(console, line)


def demo_swarms(responses: Responses) -> dict[str, np.ndarray]:
    """The demo's sub-swarms by agent position: cloze agents of each model alone and of
    both families (as many agents, the same mix of constitutions and temperatures), and
    letter agents with the options in a shared order or shuffled per agent."""
    import numpy as np

    attrs = responses.agent_attrs.reset_index(drop=True)
    cloze = (attrs["elicitation"] == "cloze").to_numpy()
    letter = (attrs["elicitation"] == "letter").to_numpy()
    models = sorted(attrs.loc[cloze, "model"].unique())
    swarms: dict[str, np.ndarray] = {}
    mixed = np.zeros(len(attrs), dtype=bool)
    for m, model in enumerate(models):
        own = cloze & (attrs["model"] == model).to_numpy()
        short = str(model).split(":")[-1].split("-")[0]
        swarms[f"{short} only, cloze"] = np.flatnonzero(own)
        # Every other agent of each model, alternating between the models, keeps the mix
        # of constitutions and temperatures.
        mixed[np.flatnonzero(own)[m % 2 :: 2]] = True
    if len(models) > 1:
        swarms["two families, cloze"] = np.flatnonzero(mixed)
    for order, label in (("fixed", "shared order"), ("shuffle_agent", "shuffled order")):
        chosen = letter & (attrs["option_order"] == order).to_numpy()
        if chosen.any():
            swarms[f"{label}, letter"] = np.flatnonzero(chosen)
    return swarms


def swarm_comparison(responses: Responses, swarms: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per sub-swarm: agents, best agent's accuracy, the plurality vote's accuracy,
    effective independent agents, mean pairwise error consistency (kappa), and the mean
    share of answers at the agents' most frequent displayed position (NaN for cloze)."""
    import warnings

    import numpy as np
    import pandas as pd

    from monoculture.errors import UndefinedMetricWarning
    from monoculture.metrics import (
        accuracy,
        effective_agents,
        error_consistency,
        plurality_accuracy,
        position_bias,
    )

    rows = []
    for name, agents in swarms.items():
        swarm = responses.select(agents=agents)
        with warnings.catch_warnings():  # an undefined figure shows as n/a in the table
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            kappa = error_consistency(swarm).to_numpy()
            off = kappa[~np.eye(len(kappa), dtype=bool)]
            bias = position_bias(swarm)
            rows.append(
                {
                    "swarm": name,
                    "agents": swarm.n_agents,
                    "best_agent": float(accuracy(swarm).max()),
                    "vote": plurality_accuracy(swarm),
                    "effective_agents": effective_agents(swarm),
                    "error_consistency": float(np.nanmean(off))
                    if np.isfinite(off).any()
                    else np.nan,
                    "top_position_share": float(bias["top_share"].mean())
                    if bias["top_share"].notna().any()
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _compare_swarms(result: ExperimentResult, console: Console) -> None:
    import numpy as np
    from rich.table import Table

    responses = result.responses[min(result.responses)]
    table = swarm_comparison(responses, demo_swarms(responses))
    console.rule("one model or two families; a shared option order or shuffled ones")
    view = Table()
    headers = {
        "swarm": "swarm",
        "agents": "agents",
        "best_agent": "best agent",
        "vote": "vote",
        "effective_agents": "effective agents",
        "error_consistency": "error kappa",
        "top_position_share": "top position",
    }
    for column, header in headers.items():
        view.add_column(header, justify="left" if column == "swarm" else "right")
    for row in table.to_dict(orient="records"):
        view.add_row(
            str(row["swarm"]),
            str(row["agents"]),
            *("n/a" if not np.isfinite(row[c]) else f"{row[c]:.2f}" for c in list(headers)[2:]),
        )
    console.print(view)
    print_plain(
        console,
        "best agent, vote: accuracy of the best agent and of the plurality vote; effective "
        "agents: how many independent agents the swarm is worth (Kish); error kappa: mean "
        "pairwise error consistency; top position: mean share of an agent's answers at its "
        "most frequent displayed position (letter agents). Agents of one model share their "
        "blind spots; a shared option order gives agents at chance a shared one (their "
        "preferred position), which shuffling per agent breaks up.",
    )


def _writable_folder(output: Path) -> None:
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"-o {output}: cannot create the folder: {error.strerror}; choose a writable folder."
        ) from None
