"""``monoculture run experiment.toml -o runs/NAME``: a swarm experiment with LLM agents."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from monoculture.cli._common import Executor, print_plain, user_errors
from monoculture.errors import InputError, undefined_messages

if TYPE_CHECKING:
    from monoculture.experiment import ExperimentConfig
    from monoculture.experiment.guarding import RoundGuard
    from monoculture.experiment.runner import ExperimentResult
    from monoculture.experiment.runner import Progress as ProgressState
    from monoculture.ledger import SigningKey


def _counts(progress: ProgressState) -> str:
    return (
        f"calls {progress.done}/{progress.planned}  cache hits {progress.cached}  "
        f"failures {progress.failed}  tokens {progress.tokens:,}"
    )


def execute(
    config: ExperimentConfig,
    output: Path,
    *,
    resume: bool,
    cache: Path | None,
    executor: Literal["local", "ray"],
    console: Console,
    signing_key: SigningKey | None = None,
) -> ExperimentResult:
    """Run with a live status line, then print and write the analyses.

    An output folder whose ledger records calls is refused without ``resume``; one left by
    a run that stopped before its first call is not.
    """
    from monoculture.experiment import run_experiment
    from monoculture.experiment.store import recorded_calls
    from monoculture.report.terminal import render

    earlier = recorded_calls(output / "ledger.sqlite")
    if earlier and not resume:
        raise InputError(
            f"{output} holds an earlier run ({earlier} calls in its ledger); continue it with "
            "--resume or choose another -o."
        )
    started = time.monotonic()
    # An undefined figure becomes a note of the run, not a Python warning line.
    with undefined_messages() as undefined:
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            columns = [
                TextColumn("calls"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "cache hits {task.fields[cached]}  failures {task.fields[failed]}"
                    "  tokens {task.fields[tokens]:,}"
                ),
                TimeRemainingColumn(),
            ]
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("calls", total=None, cached=0, failed=0, tokens=0)

                def update(p: ProgressState) -> None:
                    bar.update(
                        task,
                        completed=p.done,
                        total=p.planned,
                        cached=p.cached,
                        failed=p.failed,
                        tokens=p.tokens,
                    )

                result = run_experiment(
                    config,
                    output,
                    cache=cache,
                    executor=executor,
                    progress=update,
                    signing_key=signing_key,
                )
        else:
            result = run_experiment(
                config, output, cache=cache, executor=executor, signing_key=signing_key
            )
    result.notes.extend(undefined)
    seconds = time.monotonic() - started
    write_run(result, output)
    print_plain(
        console,
        f"{config.name} ({config.topology}): {_counts(result.progress)} in {seconds:.1f} s",
        style="bold",
    )
    rounds = sorted(result.analyses)
    for round_ in (rounds[0], rounds[-1]) if len(rounds) > 1 else rounds:
        console.rule(f"round {round_}")
        render(result.analyses[round_], console)
    if len(result.conformity):
        from rich.table import Table

        table = Table(title="Conformity in debate rounds")
        for column in result.conformity.columns:
            table.add_column(column, justify="right")
        for row in result.conformity.itertuples(index=False):
            table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)
    if len(result.oversight):
        print_plain(console, result.oversight.to_string(index=False))
    for line in position_lines(result):
        print_plain(console, line)
    if result.aggregations:
        from monoculture.report.aggregation import render_aggregation

        last = max(result.aggregations)
        console.rule(f"aggregators, round {last}")
        render_aggregation(result.aggregations[last].to_dict(), console)
    if result.guards:
        last = max(result.guards)
        console.rule(f"gate and monitors, round {last}")
        for line in guard_lines(result.guards[last]):
            print_plain(console, line)
    for note in result.notes:
        print_plain(console, f"note: {note}")
    if config.environment is not None:
        print_plain(
            console, f"Wrote {output}/ (ledger.sqlite, calls.csv, environment.parquet and .csv)"
        )
        return result
    extra = [
        f"{name}.csv"
        for name, table in result.tables.items()
        if name not in ("conformity", "oversight") and len(table)
    ]
    print_plain(
        console,
        f"Wrote {output}/ (ledger.sqlite, outcomes.csv, calls.csv, "
        + "".join(f"{name}, " for name in extra)
        + "analysis-round-*.json and report-round-*.html for every round)",
    )
    return result


def position_lines(result: ExperimentResult) -> list[str]:
    """Position bias of the first answer round, one line per agent that was shown options
    (`monoculture.metrics.position_bias`); none when no agent was."""
    import warnings

    from monoculture.errors import UndefinedMetricWarning
    from monoculture.metrics import position_bias

    if not result.responses:
        return []
    table = result.outcomes
    if "position" not in table.columns or not table["position"].notna().any():
        return []
    with warnings.catch_warnings():  # agents shown no options (cloze) have no positions
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        bias = position_bias(result.responses[min(result.responses)])
    bias = bias[bias["answered"] > 0]
    shares = [c for c in bias.columns if c.startswith("share_")]
    lines = [
        f"Answers by displayed position, round {min(result.responses)} (share at positions "
        "1..k; bias index: distance to the gold answers' positions, 0 = none):"
    ]
    for agent, row in bias.iterrows():
        values = " ".join(f"{row[c]:.2f}" for c in shares)
        lines.append(f"  {agent}: {values}  bias index {row['bias_index']:.2f}")
    return lines


def _share(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.1%}"


def guard_lines(guard: RoundGuard) -> list[str]:
    """The gate's figures and the alarms of one round, as plain lines."""
    gate, result = guard.gate, guard.result
    where = (
        f"calibrated on {guard.n_calibration:,} items"
        if guard.n_calibration
        else "loaded from its file"
    )
    lines = [
        f"gate: answer when {gate.score} > {gate.threshold:.4g} ({gate.method}, alpha "
        f"{gate.alpha:g}"
        + (f", delta {gate.delta:g}" if gate.delta is not None else "")
        + f"; {where}). {gate.guarantee}",
        f"on {result.n_items:,} held-out items: abstained on (escalated) "
        f"{_share(result.abstention_rate)}; quiet failures {_share(result.quiet_failure_rate)} "
        f"(without the gate {_share(result.ungated_failure_rate)}); accuracy when answered "
        f"{_share(result.accuracy_when_answered)}.",
    ]
    if len(guard.alarms):
        for alarm in guard.alarms.to_dict(orient="records"):
            lines.append(
                f"alarm: {alarm['monitor']} ({alarm['signal']}) at step {int(alarm['step'])}, "
                f"item {alarm['item_id']}"
            )
    return lines


def write_run(result: ExperimentResult, output: Path) -> None:
    """The run's files next to its ledger:

    - ``outcomes.csv``: the last answer round as a long table (``item_id, agent, answer,
      gold, correct, ...``; for debate, the answers after the last round), which
      ``monoculture analyze`` reads with no options;
    - ``calls.csv``: every call, one row each (round, kind, status, error, answer, ...);
    - ``analysis-round-N.json`` and ``report-round-N.html`` for every answer round, with
      the aggregators' comparison when the experiment names aggregators (their fitted
      parameters in ``aggregation-round-N.json``);
    - ``guard-round-N.json`` when the experiment has a ``[guard]``: the gate, its figures,
      every held-out decision (answer or abstain) and every alarm with its step;
    - one CSV per topology table (``conformity.csv`` and ``oversight.csv`` are always
      written, maybe empty).
    """
    from monoculture.cli.report import write_html
    from monoculture.io.long_table import responses_to_long

    rounds = sorted(result.responses)
    if rounds:
        last = responses_to_long(result.responses[rounds[-1]])
        last.to_csv(output / "outcomes.csv", index=False)
    calls = result.outcomes.drop(columns=["probs"], errors="ignore")
    calls.to_csv(output / "calls.csv", index=False)
    for round_, analysis in result.analyses.items():
        document = analysis.to_document()
        if round_ in result.aggregations:
            comparison = result.aggregations[round_].to_dict()
            (output / f"aggregation-round-{round_}.json").write_text(
                json.dumps(comparison, indent=2, allow_nan=False)
            )
            comparison.pop("fitted")  # the parameters stay in aggregation-round-N.json
            document = document.model_copy(update={"aggregation": comparison})
        if round_ in result.guards:
            shown = result.guards[round_].to_dict()
            shown.pop("decisions")  # every decision stays in guard-round-N.json
            document = document.model_copy(update={"guard": shown})
        (output / f"analysis-round-{round_}.json").write_text(
            json.dumps(document.model_dump(by_alias=True, mode="json"), indent=2, allow_nan=False)
        )
        write_html(document, output / f"report-round-{round_}.html")
    for round_, guard in result.guards.items():
        (output / f"guard-round-{round_}.json").write_text(
            json.dumps(guard.to_dict(), indent=2, allow_nan=False)
        )
    tables = {"conformity": result.conformity, "oversight": result.oversight, **result.tables}
    for name, table in tables.items():
        table.to_csv(output / f"{name}.csv", index=False)
    if len(result.tables.get("environment", ())):
        # One row per (run, step, agent): action, valid, the state before and after.
        result.tables["environment"].to_parquet(output / "environment.parquet", index=False)


def run_command(
    config: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Run directory.")] = Path(
        "runs/experiment"
    ),
    resume: Annotated[bool, typer.Option(help="Continue a run in this directory.")] = False,
    cache: Annotated[Path | None, typer.Option(help="Shared cache file (SQLite).")] = None,
    executor: Annotated[
        Executor, typer.Option(help="local (asyncio in this process) or ray (Ray tasks).")
    ] = Executor.local,
    ledger_key: Annotated[
        Path | None,
        typer.Option(
            "--ledger-key",
            help="Private key file (monoculture ledger keygen) that signs a checkpoint of the "
            "run's transparency log, written to ledger.checkpoint.",
        ),
    ] = None,
) -> None:
    """Run agents in a topology, cache and ledger every call, analyse every round."""
    from monoculture.experiment import load_experiment

    console = Console()
    with user_errors():
        experiment = load_experiment(config)
        signing_key = None
        if ledger_key is not None:
            from monoculture.ledger import load_signing_key

            signing_key = load_signing_key(path=ledger_key)
        from monoculture.cli.designs import execute_environment

        # An environment experiment plays its designs and compares them.
        play = execute_environment if experiment.environment is not None else execute
        play(
            experiment,
            output,
            resume=resume,
            cache=cache,
            executor=executor.value,
            console=console,
            signing_key=signing_key,
        )
