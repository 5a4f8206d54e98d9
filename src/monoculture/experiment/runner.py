"""Run an experiment: let the topology plan each step's calls, dispatch them, and analyse
each answer round.

A re-run with the same configuration repeats no finished call: every answered request is in
the cache, keyed by its canonical form, so a killed run continues where it stopped
(``--resume``) and a finished one replays in seconds. Failed calls are recorded, left out of
the responses with a count, and tried again on the next run.

Everything that can be checked before the first call is (the configuration, the items, the
executor, the API key's variable), before any file is written. A step in which every call
fails stops the run with a `CallError` giving the first failure's cause: later steps could
only fail the same way. Writing the results to files is the command line's job
(`monoculture.cli.run`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from monoculture.agents.http import api_key
from monoculture.agents.spec import AgentSpec
from monoculture.aggregate import (
    AGGREGATORS,
    MIN_TRAINING_ITEMS,
    AggregationComparison,
    compare_aggregators,
)
from monoculture.analysis import Analysis, analyze
from monoculture.errors import CallError, InputError
from monoculture.experiment.config import ExperimentConfig
from monoculture.experiment.dispatch import Dispatcher, Progress
from monoculture.experiment.guarding import RoundGuard, check_guard, guard_round, ledger_rows
from monoculture.experiment.outcomes import outcome_table, round_responses
from monoculture.experiment.store import Store
from monoculture.ledger import SigningKey
from monoculture.responses import Responses
from monoculture.tasks import generate_probes, load_items
from monoculture.tasks.items import Item
from monoculture.topologies import TOPOLOGIES, Outcome, Swarm, Topology, predict

__all__ = ["ExperimentResult", "Progress", "round_responses", "run_experiment"]


@dataclass
class ExperimentResult:
    """Outcomes of every call, the `Responses` of each answer round and their analyses.

    ``tables`` holds the topology's own figures by name (``conformity`` for debate,
    ``oversight`` for oversight); ``conformity`` and ``oversight`` are those two, empty when
    the topology has none.
    """

    config: ExperimentConfig
    outcomes: pd.DataFrame
    responses: dict[int, Responses]
    analyses: dict[int, Analysis]
    conformity: pd.DataFrame
    oversight: pd.DataFrame
    progress: Progress
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    aggregations: dict[int, AggregationComparison] = field(default_factory=dict)
    """The aggregators the experiment names, compared on held-out items of each round."""
    guards: dict[int, RoundGuard] = field(default_factory=dict)
    """What the experiment's gate and monitors did to each round."""


def _items(config: ExperimentConfig) -> list[Item]:
    tasks = config.tasks
    if tasks.file:
        return load_items(tasks.file)
    return generate_probes(tasks.n_items, families=tasks.families, form=tasks.form, seed=tasks.seed)


def _with_seed(agent: AgentSpec, repetition: int) -> AgentSpec:
    return (
        agent
        if repetition == 0
        else agent.model_copy(update={"seed": agent.seed + 1_000_003 * repetition})
    )


def _repetition(items: list[Item], repetition: int) -> list[Item]:
    """The items of a repetition: the same questions under ids of their own."""
    if repetition == 0:
        return items
    return [replace(i, id=f"{i.id}#{repetition}") for i in items]


def _check_aggregation(config: ExperimentConfig, n_items: int) -> None:
    """Refuse, before any call, a split too small for the aggregators to learn from."""
    learners = [name for name in config.aggregators if AGGREGATORS[name].needs_gold]
    n_train = round(config.aggregation_split * n_items)
    if learners and n_train < MIN_TRAINING_ITEMS:
        raise InputError(
            f"{config.name}: aggregators {', '.join(learners)} are fitted on "
            f"aggregation_split x items = {n_train} items, fewer than {MIN_TRAINING_ITEMS}; "
            "use more items, a larger aggregation_split, or aggregators that learn "
            "without gold (plurality, dawid_skene, one_coin)."
        )
    if config.aggregators and n_items - n_train < 1:
        raise InputError(
            f"{config.name}: aggregation_split {config.aggregation_split} leaves no held-out "
            "item to compare the aggregators on; lower it."
        )


def _stop_if_all_failed(
    step: list[Outcome], number: int, repetition: int, config: ExperimentConfig, ledger: Path
) -> None:
    if not step or any(outcome.status != "failed" for outcome in step):
        return
    first = step[0]
    where = f"step {number}" + (f" of repetition {repetition}" if config.repetitions > 1 else "")
    raise CallError(
        f"{config.name}: all {len(step)} calls of {where} failed, so the run stopped. "
        f"First failure ({first.call.agent.name}, item {first.call.item.id}): {first.error}. "
        f"The attempts are in {ledger}; fix the cause and run again with --resume (failed "
        "calls are tried again)."
    )


async def _plan_and_run(
    config: ExperimentConfig,
    items: list[Item],
    topology: Topology,
    dispatcher: Dispatcher,
    ledger: Path,
) -> list[Outcome]:
    workers, supervisors = config.worker_specs(), config.supervisor_specs()
    outcomes: list[Outcome] = []
    for repetition in range(config.repetitions):
        swarm = Swarm(
            tuple(_with_seed(a, repetition) for a in workers),
            tuple(_with_seed(a, repetition) for a in supervisors),
        )
        its = _repetition(items, repetition)
        history: list[list[Outcome]] = []
        while (calls := topology.next_calls(its, swarm, history)) is not None:
            step = await dispatcher.run(calls)
            _stop_if_all_failed(step, len(history), repetition, config, ledger)
            history.append(step)
        if config.predictions:
            calls = [
                predict(agent, item) for agent in swarm.workers for item in its if item.letters
            ]
            step = await dispatcher.run(calls)
            _stop_if_all_failed(step, len(history), repetition, config, ledger)
            history.append(step)
        outcomes += [outcome for step in history for outcome in step]
    return outcomes


def run_experiment(
    config: ExperimentConfig,
    output: Path,
    *,
    cache: Path | None = None,
    executor: Literal["local", "ray"] = "local",
    progress: Callable[[Progress], None] | None = None,
    signing_key: SigningKey | None = None,
) -> ExperimentResult:
    """Run ``config``: the ledger (and, unless ``cache`` names another file, the cache) go
    under ``output``; the outcomes, responses and analyses are returned.

    Every ledger row also goes into the transparency log in ``ledger.sqlite``; with a
    ``signing_key`` (else the key the environment names, see `monoculture.ledger`) a signed
    checkpoint of it is written to ``ledger.checkpoint`` when the run ends.

    Raises:
        InputError: before anything is written, for an unknown executor, Ray missing, an
            unset API key variable, or items that cannot be read or generated.
        CallError: when every call of a step failed (the message gives the first cause).
    """
    if executor not in ("local", "ray"):
        raise InputError(f"executor must be 'local' or 'ray'; got {executor!r}.")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise InputError("executor 'ray' needs Ray: pip install ray, or use executor 'local'.")
    if config.model_backend is not None:
        try:
            api_key(config.endpoint.api_key_env)
        except CallError as error:
            raise InputError(str(error)) from None
    items = _items(config)
    _check_aggregation(config, len(items) * config.repetitions)
    check_guard(config, len(items) * config.repetitions)
    topology = TOPOLOGIES[config.topology].from_config(config)
    output.mkdir(parents=True, exist_ok=True)
    store = Store(
        cache or output / "cache.sqlite", output / "ledger.sqlite", signing_key=signing_key
    )
    state = Progress()
    dispatcher = Dispatcher(
        config, store, uuid.uuid4().hex[:12], executor, state, progress or (lambda p: None)
    )

    async def main() -> list[Outcome]:
        try:
            return await _plan_and_run(
                config, items, topology, dispatcher, output / "ledger.sqlite"
            )
        finally:
            await dispatcher.close()

    try:
        outcomes = asyncio.run(main())
    finally:
        store.close()
    table = outcome_table(outcomes)
    answer_rounds = sorted(int(r) for r in table.loc[table["kind"] == "answer", "round"].unique())
    if config.environment is not None:
        answer_rounds = []  # steps of an environment, not rounds of items: see its table
    synthetic = config.agents.backend == "scripted"
    responses = {r: round_responses(table, r, config.name) for r in answer_rounds}
    analyses = {
        r: analyze(responses[r], bootstrap=config.bootstrap, synthetic=synthetic)
        for r in answer_rounds
    }
    aggregations = {
        r: compare_aggregators(
            responses[r],
            methods=config.aggregators,
            train_share=config.aggregation_split,
            seed=config.tasks.seed,
        )
        for r in answer_rounds
        if config.aggregators
    }
    guards = {}
    if config.guard is not None:
        guards = {
            r: guard_round(responses[r], config.guard, seed=config.tasks.seed)
            for r in answer_rounds
        }
        # The decisions and alarms join the calls in the ledger and its signed log.
        store = Store(
            cache or output / "cache.sqlite", output / "ledger.sqlite", signing_key=signing_key
        )
        try:
            for r, guard in guards.items():
                store.record(ledger_rows(dispatcher.run_id, r, guard))
        finally:
            store.close()
    tables = topology.tables(table)
    notes = []
    if state.failed:
        notes.append(
            f"{state.failed} call(s) failed after retries; they are in the ledger "
            "and will be tried again on the next run."
        )
    return ExperimentResult(
        config,
        table,
        responses,
        analyses,
        tables.get("conformity", pd.DataFrame()),
        tables.get("oversight", pd.DataFrame()),
        state,
        notes,
        tables,
        aggregations,
        guards,
    )
