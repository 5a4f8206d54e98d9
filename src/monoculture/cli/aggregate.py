"""``monoculture aggregate FILE`` and ``monoculture select FILE -k K``: compare voting rules
and choose agents on held-out items."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console

from monoculture.cli._common import (
    AgentColOption,
    AnswerColOption,
    FormatOption,
    GoldColOption,
    InputFormat,
    ItemColOption,
    MetricOption,
    ProgressOption,
    ScorerOption,
    TaskOption,
    check_input,
    check_output_path,
    print_plain,
    progress_bar,
    reader_options,
    user_errors,
)
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.responses import Responses

# monoculture.aggregate.AGGREGATORS and DEFAULT_METHODS, repeated so that --help loads no
# numpy; a test checks that they agree.
METHODS = (
    "plurality",
    "weighted",
    "dawid_skene",
    "one_coin",
    "cluster",
    "covariance",
    "surprisingly_popular",
)
DEFAULT_METHODS = "plurality,weighted,dawid_skene,one_coin,cluster,covariance"
Objective = Literal["vote_accuracy", "systemic_failure"]
Search = Literal["auto", "exact", "greedy"]

FileArgument = Annotated[
    Path, typer.Argument(help="Responses with answers: CSV, TSV, JSONL or Parquet (.gz ok).")
]
AgentsOption = Annotated[
    Path | None, typer.Option("--agents", help="Agent attributes: agent, family, ...")
]
SplitOption = Annotated[
    float,
    typer.Option("--split", help="Share of items to fit on, in (0, 1); the rest is held out."),
]
SeedOption = Annotated[int, typer.Option(help="Seed of the item split and tie-breaks.")]


def parse_methods(text: str) -> list[str]:
    """``"plurality,weighted"`` -> the method names, each checked against `METHODS`."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise InputError(f"--methods: give one or more of {', '.join(METHODS)}; got {text!r}.")
    unknown = [name for name in names if name not in METHODS]
    if unknown:
        raise InputError(
            f"--methods: unknown method(s) {', '.join(unknown)}; choose from "
            f"{', '.join(METHODS)} (comma-separated)."
        )
    return list(dict.fromkeys(names))


def check_common(
    *,
    file: Path,
    agents: Path | None,
    split: float,
    seed: int,
    outputs: dict[str, Path | None],
    format: InputFormat = "auto",
) -> None:
    """The options both commands share, checked before any file is read."""
    from monoculture.io.tables import check_table_path

    if not (math.isfinite(split) and 0 < split < 1):
        raise InputError(
            f"--split is the share of items to fit on, so it must be strictly between 0 and "
            f"1; got {split:g}. Use e.g. --split 0.5."
        )
    if seed < 0:
        raise InputError(f"--seed must be >= 0; got {seed}.")
    check_input(file, format)
    if agents is not None:
        try:
            check_table_path(agents)
        except InputError as error:
            raise InputError(f"--agents {error}") from None
    for option, out in outputs.items():
        if out is not None:
            check_output_path(out, option, inputs=(file, agents))


def _columns(item_col: str, agent_col: str, answer_col: str, gold_col: str) -> dict[str, Any]:
    return {
        "item_col": item_col,
        "agent_col": agent_col,
        "answer_col": answer_col,
        "gold_col": gold_col,
    }


def read_answers(
    file: Path, agents: Path | None, columns: dict[str, Any], update: Any
) -> Responses:
    from monoculture.io import read_responses

    update("reading", 0, 1)
    responses = read_responses(
        file,
        agents=agents,
        item_col=columns["item_col"],
        agent_col=columns["agent_col"],
        answer_col=columns["answer_col"],
        gold_col=columns["gold_col"],
        **columns["reader"],
    )
    update("reading", 1, 1)
    if responses.answers is None:
        raise InputError(
            f"{file}: has no answers, only correctness; aggregation counts votes for answers, "
            f"so give an answer column (--answer-col, now {columns['answer_col']!r})."
        )
    return responses


def write_json(path: Path, payload: dict[str, Any], console: Console) -> None:
    try:
        path.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputError(f"--json {path}: cannot write: {error.strerror}.") from None
    print_plain(console, f"Wrote {path}")


def aggregate_command(
    file: FileArgument,
    agents: AgentsOption = None,
    split: SplitOption = 0.5,
    seed: SeedOption = 0,
    methods: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated methods: {', '.join(METHODS)}. surprisingly_popular needs "
            "a predicted_shares column and joins the default when there is one."
        ),
    ] = DEFAULT_METHODS,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the comparison (and fitted models) here.")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write a self-contained HTML page here.")
    ] = None,
    dissent: Annotated[
        int, typer.Option(help="Show this many held-out items with the strongest dissent.")
    ] = 5,
    item_col: ItemColOption = "item_id",
    agent_col: AgentColOption = "agent",
    answer_col: AnswerColOption = "answer",
    gold_col: GoldColOption = "gold",
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
    progress: ProgressOption = True,
) -> None:
    """Compare aggregators (votes, Dawid-Skene, correlation-aware rules) on held-out items."""
    with user_errors():
        chosen = parse_methods(methods)
        check_common(
            file=file,
            agents=agents,
            split=split,
            seed=seed,
            outputs={"--json": json_out, "--html": html_out},
            format=format,
        )
        if dissent < 0:
            raise InputError(f"--dissent must be >= 0; got {dissent}.")
        if json_out is not None and json_out == html_out:
            raise InputError(f"--json and --html name the same file, {json_out}; give two paths.")
        from monoculture.aggregate import (
            PREDICTION_COLUMN,
            compare_aggregators,
        )
        from monoculture.report.aggregation import render_aggregation

        console = Console()
        columns = _columns(item_col, agent_col, answer_col, gold_col)
        columns["reader"] = reader_options(format, scorer, metric, task)
        with progress_bar(progress) as update:
            responses = read_answers(file, agents, columns, update)
            if methods == DEFAULT_METHODS and PREDICTION_COLUMN in responses.cell_attrs:
                chosen.append("surprisingly_popular")
            update("fitting and deciding", 0, 1)
            comparison = compare_aggregators(
                responses, methods=chosen, train_share=split, seed=seed
            )
            update("fitting and deciding", 1, 1)
        result = comparison.to_dict()
        render_aggregation(result, console)
        if dissent:
            table = comparison.dissent_items
            strongest = table[table["dissent"] != ""].nlargest(dissent, "dissent_effective")
            if len(strongest):
                print_plain(console, "Strongest dissent on held-out items:")
            for row in strongest.itertuples():
                print_plain(
                    console,
                    f"  item {row.item_id}: consensus {row.consensus} "
                    f"({row.consensus_support:.0%}, {row.consensus_effective:.1f} effective), "
                    f"dissent {row.dissent} ({row.dissent_support:.0%}, "
                    f"{row.dissent_effective:.1f} effective)",
                )
        if json_out is not None:
            write_json(json_out, result, console)
        if html_out is not None:
            from monoculture.report.html import render_aggregation_page

            try:
                html_out.write_text(render_aggregation_page(result), encoding="utf-8")
            except OSError as error:
                raise InputError(f"--html {html_out}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {html_out}")


def select_command(
    file: FileArgument,
    k: Annotated[int, typer.Option("-k", help="How many agents to choose.")],
    agents: AgentsOption = None,
    objective: Annotated[
        Objective,
        typer.Option(help="Maximise the vote's accuracy, or minimise all-wrong items."),
    ] = "vote_accuracy",
    search: Annotated[
        Search,
        typer.Option(help="exact (every set; n <= about 20), greedy, or auto (exact if cheap)."),
    ] = "auto",
    split: SplitOption = 0.5,
    seed: SeedOption = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the choice and the comparison here.")
    ] = None,
    item_col: ItemColOption = "item_id",
    agent_col: AgentColOption = "agent",
    answer_col: AnswerColOption = "answer",
    gold_col: GoldColOption = "gold",
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
    progress: ProgressOption = True,
) -> None:
    """Choose k agents for diversity and compare them with the k most accurate."""
    with user_errors():
        check_common(
            file=file,
            agents=agents,
            split=split,
            seed=seed,
            outputs={"--json": json_out},
            format=format,
        )
        if k < 1:
            raise InputError(f"-k must be at least 1; got {k}.")
        from monoculture.aggregate import compare_selection
        from monoculture.report.aggregation import render_selection

        console = Console()
        columns = _columns(item_col, agent_col, answer_col, gold_col)
        columns["reader"] = reader_options(format, scorer, metric, task)
        with progress_bar(progress) as update:
            responses = read_answers(file, agents, columns, update)
            if k > responses.n_agents:
                raise InputError(
                    f"-k {k} is more than the {responses.n_agents} agents in {file}; choose "
                    f"at most {responses.n_agents}."
                )
            update("selecting", 0, 1)
            result = compare_selection(
                responses, k, objective=objective, search=search, train_share=split, seed=seed
            )
            update("selecting", 1, 1)
        payload = result.to_dict()
        render_selection(payload, console)
        if json_out is not None:
            write_json(json_out, payload, console)
