"""``monoculture guard``: gate a swarm's decisions with a guarantee on quiet failures
(``calibrate``, ``apply``) and replay a stream of decisions through monitors (``replay``).
"""

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
    CorrectColOption,
    FormatOption,
    GoldColOption,
    InputFormat,
    ItemColOption,
    MetricOption,
    ProbsPrefixOption,
    ScorerOption,
    TaskOption,
    check_input,
    check_output_path,
    plural,
    print_plain,
    progress_bar,
    reader_options,
    user_errors,
)
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.guard import GateResult, ItemScores
    from monoculture.responses import Responses

app = typer.Typer(
    name="guard",
    help="Gate a swarm's decisions with a guarantee; replay a stream through monitors.",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)

# monoculture.guard.SCORES, repeated so that --help loads no numpy; a test checks the two
# agree.
Score = Literal["agreement", "margin", "entropy", "probability", "supporters"]
Method = Literal["ltt", "crc"]
Bound = Literal["hoeffding_bentkus", "binomial"]

FileArgument = Annotated[
    Path, typer.Argument(help="Responses: CSV, TSV, JSONL or Parquet (.gz ok), with gold.")
]


def _check_level(value: float, option: str) -> None:
    if not (math.isfinite(value) and 0 < value < 1):
        example = "0.05 for 5 %" if option == "--alpha" else "0.1 for 90 % confidence"
        raise InputError(
            f"{option} must be a number strictly between 0 and 1; got {value:g}. Use e.g. "
            f"{example}."
        )


def column_options(
    item_col: str,
    agent_col: str,
    answer_col: str,
    gold_col: str,
    correct_col: str,
    probs_prefix: str,
) -> dict[str, str]:
    """The column options as `read_responses` keywords."""
    return {
        "item_col": item_col,
        "agent_col": agent_col,
        "answer_col": answer_col,
        "gold_col": gold_col,
        "correct_col": correct_col,
        "probs_prefix": probs_prefix,
    }


def _check_input(path: Path, option: str = "", format: InputFormat | None = None) -> None:
    """A responses input (any format read_responses detects), or, without ``format``, a
    plain table (the replay stream)."""
    from monoculture.io.tables import check_table_path

    if format is not None:
        check_input(path, format, option)
        return
    try:
        check_table_path(path)
    except InputError as error:
        raise InputError(f"{option}{error}") from None


def _read(path: Path, columns: dict[str, Any]) -> Responses:
    from monoculture.io import read_responses

    return read_responses(path, **columns)


def _scores(responses: Responses, score: str) -> ItemScores:
    from monoculture.guard import score_items

    return score_items(responses, score=score)  # type: ignore[arg-type]


def _percent(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.1%}"


@app.command("calibrate")
def calibrate_command(
    file: FileArgument,
    alpha: Annotated[
        float, typer.Option(help="Target quiet-failure rate (answered and wrong), in (0, 1).")
    ] = 0.05,
    delta: Annotated[
        float,
        typer.Option(help="The bound holds with probability >= 1 - delta (ltt), in (0, 1)."),
    ] = 0.1,
    score: Annotated[Score, typer.Option(help="The swarm's confidence score per item.")] = (
        "agreement"
    ),
    method: Annotated[
        Method,
        typer.Option(
            help="ltt: Learn then Test (bound with probability 1 - delta); crc: conformal "
            "risk control (bound in expectation)."
        ),
    ] = "ltt",
    bound: Annotated[
        Bound,
        typer.Option(help="p-value of ltt: hoeffding_bentkus, or binomial (exact, 0/1 loss)."),
    ] = "hoeffding_bentkus",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the gate (JSON) here.")
    ] = None,
    holdout: Annotated[
        float,
        typer.Option(
            help="Share of items held out at random (0 = none) to show the gate on new items."
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the held-out split.")] = 0,
    item_col: ItemColOption = "item_id",
    agent_col: AgentColOption = "agent",
    answer_col: AnswerColOption = "answer",
    gold_col: GoldColOption = "gold",
    correct_col: CorrectColOption = "correct",
    probs_prefix: ProbsPrefixOption = "prob_",
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
) -> None:
    """Calibrate a gate: the threshold on the score that bounds the quiet-failure rate."""
    with user_errors():
        _check_level(alpha, "--alpha")
        _check_level(delta, "--delta")
        if not (math.isfinite(holdout) and 0 <= holdout < 1):
            raise InputError(
                f"--holdout is the share of items held out, in [0, 1); got {holdout:g}."
            )
        if seed < 0:
            raise InputError(f"--seed must be >= 0; got {seed}.")
        _check_input(file, format=format)
        if output is not None:
            check_output_path(output, "--output", inputs=(file,))
        import numpy as np

        from monoculture.guard import apply_gate, calibrate_gate, minimum_calibration_items

        needed = minimum_calibration_items(alpha=alpha, delta=delta, method=method, bound=bound)
        columns = {
            **column_options(item_col, agent_col, answer_col, gold_col, correct_col, probs_prefix),
            **reader_options(format, scorer, metric, task),
        }
        scores = _scores(_read(file, columns), score)
        held = None
        if holdout > 0:
            order = np.random.default_rng(seed).permutation(scores.n_items)
            cut = scores.n_items - round(holdout * scores.n_items)
            held = scores.select(np.sort(order[cut:]))
            scores = scores.select(np.sort(order[:cut]))
        gate = calibrate_gate(scores, alpha=alpha, delta=delta, method=method, bound=bound)
        console = Console()
        name = "Learn then Test" if method == "ltt" else "conformal risk control"
        detail = f", {bound.replace('_', '-')} p-values" if method == "ltt" else ""
        print_plain(console, f"Gate on {score} ({name}{detail})", style="bold")
        if math.isinf(gate.threshold) and gate.threshold > 0:
            rule = "no threshold certified: abstain on every item"
        elif math.isinf(gate.threshold):
            rule = f"answer every item the swarm answers ({score} needs no threshold)"
        else:
            rule = f"answer when {score} > {gate.threshold:.6g}, otherwise abstain and escalate"
        print_plain(console, f"  rule:        {rule}")
        print_plain(console, f"  guarantee:   {gate.guarantee}")
        print_plain(
            console,
            f"  calibration: {plural(gate.n_calibration, 'labelled item')} (at least "
            f"{needed:,} needed)",
        )
        print_plain(
            console,
            f"  abstention:  {_percent(gate.calibration_abstention_rate)} of calibration "
            "items escalated",
        )
        print_plain(
            console,
            f"  quiet failures on calibration: {_percent(gate.calibration_ungated_failure_rate)}"
            f" without the gate -> {_percent(gate.calibration_quiet_failure_rate)} with it",
        )
        if held is not None:
            result = apply_gate(gate, held)
            print_plain(
                console,
                f"  held out ({plural(result.n_items, 'item')}): abstention "
                f"{_percent(result.abstention_rate)}; quiet failures "
                f"{_percent(result.ungated_failure_rate)} -> "
                f"{_percent(result.quiet_failure_rate)}; accuracy when answered "
                f"{_percent(result.accuracy_when_answered)}",
            )
        if output is not None:
            try:
                gate.save(output)
            except OSError as error:
                raise InputError(f"--output {output}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {output}")


def _summary(result: GateResult, gate_path: Path, score: str) -> dict[str, Any]:
    out: dict[str, Any] = {"gate": str(gate_path), "score": score}
    for key, value in result.summary().items():
        out[key] = None if isinstance(value, float) and math.isnan(value) else value
    out["n_answered"] = int(result.answered.sum())
    out["n_abstained"] = int(result.n_items - result.answered.sum())
    return out


@app.command("apply")
def apply_command(
    file: FileArgument,
    gate: Annotated[Path, typer.Option("--gate", help="A gate.json from `guard calibrate`.")],
    score: Annotated[
        Score | None,
        typer.Option(help="Check that the gate was calibrated on this score (default: its own)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures as JSON here.")
    ] = None,
    decisions_out: Annotated[
        Path | None,
        typer.Option(
            "--decisions", help="Write one row per item (item_id, answer, answered) as CSV."
        ),
    ] = None,
    item_col: ItemColOption = "item_id",
    agent_col: AgentColOption = "agent",
    answer_col: AnswerColOption = "answer",
    gold_col: GoldColOption = "gold",
    correct_col: CorrectColOption = "correct",
    probs_prefix: ProbsPrefixOption = "prob_",
    format: FormatOption = "auto",
    scorer: ScorerOption = None,
    metric: MetricOption = None,
    task: TaskOption = None,
) -> None:
    """Gate the swarm's answers: answer or abstain per item; quiet failures if gold is known."""
    with user_errors():
        _check_input(file, format=format)
        for out, option in ((json_out, "--json"), (decisions_out, "--decisions")):
            if out is not None:
                check_output_path(out, option, inputs=(file, gate))
        if json_out is not None and json_out == decisions_out:
            raise InputError(f"--json and --decisions name the same file, {json_out}.")
        from monoculture.guard import SCORES, apply_gate, load_gate

        loaded = load_gate(gate)
        if score is not None and score != loaded.score:
            raise InputError(
                f"--gate {gate}: calibrated on the score {loaded.score!r}, not {score!r}; a "
                f"threshold means nothing on another score. Drop --score (or pass --score "
                f"{loaded.score}), or calibrate a gate with --score {score}."
            )
        if loaded.score not in SCORES:
            raise InputError(
                f"--gate {gate}: calibrated on {loaded.score!r}, a score this command cannot "
                f"compute (it computes {', '.join(SCORES)}); apply it in Python with "
                "monoculture.guard.apply_gate(gate, scores)."
            )
        columns = {
            **column_options(item_col, agent_col, answer_col, gold_col, correct_col, probs_prefix),
            **reader_options(format, scorer, metric, task),
        }
        responses = _read(file, columns)
        scores = _scores(responses, loaded.score)
        result = apply_gate(loaded, scores)
        console = Console()
        answered = int(result.answered.sum())
        print_plain(console, f"Gate {gate} ({loaded.score} > {loaded.threshold:.6g})", style="bold")
        print_plain(
            console,
            f"  answered {plural(answered, 'item')}, abstained on "
            f"{plural(result.n_items - answered, 'item')} (abstention "
            f"{_percent(result.abstention_rate)})",
        )
        if result.n_labelled:
            print_plain(
                console,
                f"  quiet failures (answered and wrong, over {plural(result.n_labelled, 'item')}"
                f" with gold): {_percent(result.ungated_failure_rate)} without the gate -> "
                f"{_percent(result.quiet_failure_rate)} with it (target {loaded.alpha:.1%})",
            )
            print_plain(
                console, f"  accuracy when answered: {_percent(result.accuracy_when_answered)}"
            )
        else:
            print_plain(console, "  no gold answers: quiet failures cannot be counted")
        if json_out is not None:
            document = _summary(result, gate, loaded.score)
            try:
                json_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            except OSError as error:
                raise InputError(f"--json {json_out}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {json_out}")
        if decisions_out is not None:
            import pandas as pd

            labels = list(responses.labels)
            table = pd.DataFrame(
                {
                    "item_id": scores.item_ids,
                    "answer": [labels[c] if c >= 0 else "" for c in result.answer.tolist()],
                    "answered": result.answered.astype(int),
                    loaded.score: scores.values,
                }
            )
            try:
                table.to_csv(decisions_out, index=False)
            except OSError as error:
                raise InputError(
                    f"--decisions {decisions_out}: cannot write: {error.strerror}."
                ) from None
            print_plain(console, f"Wrote {decisions_out}")


@app.command("replay")
def replay_command(
    stream: Annotated[
        Path,
        typer.Argument(
            help="Decisions, one row per step: step, correct, agreement, entropy, ... "
            "(CSV, TSV, JSONL or Parquet)."
        ),
    ],
    monitors: Annotated[
        Path, typer.Option("--monitors", help="monitors.toml: one [[monitor]] table each.")
    ],
    change_step: Annotated[
        int | None,
        typer.Option(help="Step at which the stream is known to change (for delays)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write alarms and summary as JSON here.")
    ] = None,
    progress: Annotated[
        bool, typer.Option(help="Show progress (a bar on a terminal, else a line per stage).")
    ] = True,
) -> None:
    """Replay a stream of decisions through monitors; print each alarm with its step."""
    with user_errors():
        _check_input(stream)
        if not monitors.is_file():
            raise InputError(f"--monitors {monitors}: no such file; write a monitors.toml.")
        if json_out is not None:
            check_output_path(json_out, "--json", inputs=(stream, monitors))
        from monoculture.guard import load_monitors, replay
        from monoculture.io.tables import read_table

        config = load_monitors(monitors)
        console = Console()
        with progress_bar(progress) as update:
            update("reading", 0, 1)
            table = read_table(stream)
            update("reading", 1, 1)
            result = replay(table, config, change_step=change_step, progress=update)
        print_plain(
            console,
            f"Replayed {plural(result.n_steps, 'decision')} through "
            f"{plural(len(result.summary), 'monitor')}",
            style="bold",
        )
        for row in result.summary.to_dict(orient="records"):
            n_alarms, delay_value = int(row["n_alarms"]), float(row["delay"])
            line = (
                f"  {row['monitor']} ({row['kind']} on {row['signal']}): "
                f"{plural(n_alarms, 'alarm')}"
            )
            if change_step is not None:
                delay = "none after the change" if math.isnan(delay_value) else f"{delay_value:.0f}"
                line += f"; {plural(int(row['false_alarms']), 'false alarm')} before step "
                line += f"{change_step:,}; detection delay {delay}"
            print_plain(console, line)
        shown = result.alarms.head(50)
        for alarm in shown.to_dict(orient="records"):
            alarm_delay = float(alarm["delay"])
            delay = "" if math.isnan(alarm_delay) else f", delay {alarm_delay:.0f}"
            kind = " (false alarm)" if alarm["false_alarm"] else ""
            print_plain(
                console,
                f"  alarm: {alarm['monitor']} at step {int(alarm['step']):,} (run length "
                f"{int(alarm['run_length']):,}{delay}){kind}",
            )
        if len(result.alarms) > len(shown):
            print_plain(console, f"  ... and {len(result.alarms) - len(shown):,} more alarms")
        if json_out is not None:
            document = {
                "n_steps": result.n_steps,
                "change_step": change_step,
                "summary": json.loads(result.summary.to_json(orient="records")),
                "alarms": json.loads(result.alarms.to_json(orient="records")),
                "monitors": [monitor.to_dict() for monitor in result.monitors],
            }
            try:
                json_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            except OSError as error:
                raise InputError(f"--json {json_out}: cannot write: {error.strerror}.") from None
            print_plain(console, f"Wrote {json_out}")
