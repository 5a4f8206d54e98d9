"""The bridge to LLM agents: an environment played through the experiment runner's planning
protocol, so every step's calls are cached, ledgered, resumable and can run on Ray.

`EnvironmentTopology` plays ``runs`` runs of an environment with the swarm's workers as its
agents. Step k asks every worker of every run still playing one ``answer`` call: the
environment's text observation is the user prompt, the item is one per (run, step)
(``commons-r3-s5``; ``#k`` appended in repetition k), the round is k. The parsed answers
become actions through the environment's `ActionSpace.parse_action` (an unparseable,
out-of-range or failed answer is recorded ``valid = False`` and replaced by the
environment's default), the transition applies, and the next step is planned; ``None``
when every run has ended.

The topology keeps no state between calls: the trajectory is replayed from the outcomes
(the environment's randomness comes from `seed_streams`, the same stream `play` uses), so a
resumed run, served from the cache, rebuilds it exactly; `tables` replays it from the
outcome table into the environment's long table.

Each run gets its own sampling seed per worker (``seed + 7919 × run``), so that sampling
agents do not give every run the same answer to the same first prompt; greedy agents
ignore the seed, and their identical prompts are served once from the cache.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pandas as pd

from monoculture.agents.spec import AgentSpec
from monoculture.environments._commons import Commons
from monoculture.environments._estimation import DriftingEstimation
from monoculture.environments._protocol import (
    ActionSpace,
    Environment,
    long_table,
    seed_streams,
)
from monoculture.errors import InputError
from monoculture.tasks.items import Item
from monoculture.topologies.protocol import Call, Outcome, Swarm

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = ["ENVIRONMENTS", "EnvironmentTopology", "make_environment"]

ENVIRONMENTS: dict[str, type[Environment[Any]]] = {
    "commons": Commons,
    "estimation": DriftingEstimation,
}
"""Kind (the ``[environment]`` table's ``kind``) -> environment class."""

_RUN_SEED = 7919
_REPETITION_SEED = 1_000_003


def _integers_up_to(high: int) -> list[str]:
    """GBNF alternatives matching exactly the whole numbers ``0..high`` written without
    leading zeros (e.g. 100: ``[0-9]``, ``[1-9] [0-9]``, ``"100"``)."""
    digits = str(high)
    alternatives = ["[0-9]"] if len(digits) > 1 else [f"[0-{digits}]"]
    alternatives += [f"[1-9] [0-9]{{{n - 1}}}" for n in range(2, len(digits))]
    if len(digits) > 1:  # as many digits as high: below it at the first digit that differs
        for k, digit in enumerate(digits):
            least = 1 if k == 0 else 0
            if int(digit) > least:
                prefix = f'"{digits[:k]}" ' if k else ""
                rest = len(digits) - k - 1
                tail = f" [0-9]{{{rest}}}" if rest else ""
                alternatives.append(f"{prefix}[{least}-{int(digit) - 1}]{tail}")
        alternatives.append(f'"{digits}"')
    return alternatives


def _number_grammar(space: ActionSpace) -> str:
    """A llama.cpp grammar for a numeric action. A whole number from 0 to a finite high
    gets exactly the numbers of its range (a model cannot run on to "728000" when asked
    for 0-100 tons); other ranges get digits (a sign and decimals where the space allows
    them), as many as the largest magnitude has, the range checked by
    `ActionSpace.parse_action` afterwards."""
    if space.kind != "number":
        return ""
    if space.integer and space.low >= 0 and math.isfinite(space.high):
        return "root ::= " + " | ".join(_integers_up_to(int(space.high)))
    sign = '"-"? ' if space.low < 0 else ""
    fraction = "" if space.integer else ' ("." [0-9]{1,3})?'
    largest = max(abs(space.low), abs(space.high))
    width = len(str(int(largest))) if math.isfinite(largest) else 6
    return f"root ::= {sign}[0-9]{{1,{width}}}{fraction}"


def make_environment(kind: Literal["commons", "estimation"], **options: Any) -> Environment[Any]:
    """The environment of ``kind`` with ``options`` (its dataclass fields).

    Example:
        >>> make_environment("commons", communication=False).communication
        False
    """
    if kind not in ENVIRONMENTS:
        raise InputError(
            f"environment kind must be one of {', '.join(ENVIRONMENTS)}; got {kind!r}."
        )
    cls: Any = ENVIRONMENTS[kind]  # a dataclass: its fields are the options
    known = {f.name for f in dataclasses.fields(cls) if f.name not in ("name", "columns")}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(
            f"environment {kind!r}: unknown option(s) {unknown}; it takes {sorted(known)}."
        )
    environment: Environment[Any] = cls(**options)
    return environment


def _repetition(items: Sequence[Item]) -> int:
    """The runner's repetition, read from its items' ids (``q1#2`` in repetition 2)."""
    if not items:
        return 0
    _, _, tag = items[0].id.rpartition("#")
    return int(tag) if "#" in items[0].id and tag.isdigit() else 0


@dataclass
class _Trajectory:
    state: Any
    records: list[dict[str, np.ndarray]]
    played: list[np.ndarray]


@dataclass(frozen=True)
class EnvironmentTopology:
    """An environment played by the swarm's workers, ``runs`` runs at once (module
    docstring).

    Attributes:
        environment: the environment (its ``n_agents`` must equal the number of workers).
        runs: runs played side by side.
        seed: the environment's seed (repetition k of the experiment uses
            ``seed + 1_000_003 k``); `play` with the same seed draws the same environment
            randomness.
    """

    environment: Environment[Any]
    runs: int = 10
    seed: int = 0
    needs_supervisors: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise InputError(f"environment: runs must be at least 1; got {self.runs}.")

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> EnvironmentTopology:
        """From the experiment's ``environment`` table: ``kind``, ``runs``, ``seed`` and the
        environment's options (``n_agents`` defaults to the number of workers)."""
        section = getattr(config, "environment", None)
        if section is None:
            raise InputError(
                f"{config.name}: topology 'environment' needs an [environment] table "
                '(kind = "commons" or "estimation", runs, seed, and the environment\'s options).'
            )
        dump = getattr(section, "model_dump", None)
        options: dict[str, Any] = dict(dump() if callable(dump) else section)
        kind = options.pop("kind", None)
        runs = int(options.pop("runs", 10))
        seed = int(options.pop("seed", 0))
        # The designs and the simulator's runs are the CLI's business (one experiment per
        # design, then the comparison); they are not the environment's options.
        options.pop("designs", None)
        options.pop("simulator_runs", None)
        options = {k: v for k, v in options.items() if v is not None}
        options.setdefault("n_agents", len(config.worker_specs()))
        return cls(make_environment(kind, **options), runs=runs, seed=seed)

    # -- the planning protocol -------------------------------------------------------------

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        workers = self._workers(swarm)
        repetition = _repetition(items)
        environment = self.environment
        trajectory = self._replay(self._answers(workers, history), repetition)
        step = len(history)
        if step >= environment.n_steps:
            return None
        state = trajectory.state
        active = environment.active(state)
        if not active.any():
            return None
        space = environment.action_space
        tag = f"#{repetition}" if repetition else ""
        calls = []
        for run in np.nonzero(active)[0].tolist():
            item = Item(
                f"{environment.name}-r{run}-s{step}{tag}",
                f"{environment.name}: run {run}, step {step}",
                environment.reference_answer(state, run),
                space.options,
                f"environment:{environment.name}",
                {
                    "run": str(run),
                    "step": str(step),
                    "repetition": str(repetition),
                    "answer_grammar": _number_grammar(space),
                },
            )
            for index, agent in enumerate(workers):
                calls.append(
                    Call(
                        self._run_agent(agent, run),
                        item,
                        step,
                        "answer",
                        environment.prompt(state, run, index),
                        letters=space.letters,
                    )
                )
        return calls

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """``{"environment": the long table}`` replayed from the outcome table, with the
        columns of `play` and ``repetition``, ``agent_name``, ``answer`` (the parsed answer
        text the action came from)."""
        name = re.escape(self.environment.name)
        pattern = re.compile(rf"^{name}-r(\d+)-s(\d+)(?:#(\d+))?$")
        if not len(outcomes) or "item_id" not in outcomes.columns:
            return {"environment": pd.DataFrame()}
        parsed = outcomes["item_id"].astype(str).str.extract(pattern)
        rows = outcomes.assign(_run=parsed[0], _step=parsed[1], _repetition=parsed[2].fillna("0"))
        rows = rows[rows["_run"].notna() & (rows["kind"] == "answer")]
        if not len(rows):
            return {"environment": pd.DataFrame()}
        names = list(pd.unique(rows["agent"]))  # planned in worker order
        if len(names) != self.environment.n_agents:
            raise InputError(
                f"environment table: {len(names)} agents answered; the environment has "
                f"{self.environment.n_agents}."
            )
        index = {n: k for k, n in enumerate(names)}
        tables = []
        for repetition, group in rows.groupby(rows["_repetition"].astype(int), sort=True):
            steps = []
            for _, at_step in group.groupby(group["_step"].astype(int), sort=True):
                grid = np.full((self.runs, len(names)), None, dtype=object)
                for run, agent, answer, status in zip(
                    at_step["_run"].astype(int),
                    at_step["agent"],
                    at_step["answer"],
                    at_step["status"],
                    strict=True,
                ):
                    ok = status != "failed" and isinstance(answer, str)
                    grid[run, index[agent]] = answer if ok else None
                steps.append(grid)
            table = self._table(steps, int(repetition), names)
            tables.append(table)
        return {"environment": pd.concat(tables, ignore_index=True)}

    # -- replay ----------------------------------------------------------------------------

    def state(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> Any:
        """The environment's state after the steps in ``history`` (what `next_calls` plans
        the next step from)."""
        workers = self._workers(swarm)
        return self._replay(self._answers(workers, history), _repetition(items)).state

    def trajectory(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> pd.DataFrame:
        """The long table of the steps in ``history`` (as `tables` gives from the outcome
        table)."""
        workers = self._workers(swarm)
        answers = self._answers(workers, history)
        return self._table(answers, _repetition(items), [w.name for w in workers])

    def _workers(self, swarm: Swarm) -> tuple[AgentSpec, ...]:
        workers = swarm.workers
        if len(workers) != self.environment.n_agents:
            raise InputError(
                f"environment {self.environment.name!r} has n_agents = "
                f"{self.environment.n_agents}; the swarm has {len(workers)} workers. Set "
                "n_agents to the number of workers (or leave it out of [environment])."
            )
        return workers

    def _run_agent(self, agent: AgentSpec, run: int) -> AgentSpec:
        if run == 0:
            return agent
        return agent.model_copy(update={"seed": agent.seed + _RUN_SEED * run})

    def _answers(
        self, workers: Sequence[AgentSpec], history: Sequence[Sequence[Outcome]]
    ) -> list[np.ndarray]:
        """Per step, the ``(runs, n_agents)`` answer texts (None: failed or not asked)."""
        index = {agent.name: k for k, agent in enumerate(workers)}
        steps = []
        for outcomes in history:
            grid = np.full((self.runs, len(workers)), None, dtype=object)
            asked = False
            for outcome in outcomes:
                call = outcome.call
                if call.kind != "answer" or "run" not in call.item.attrs:
                    continue
                asked = True
                answer = outcome.answer if outcome.status != "failed" else None
                grid[int(call.item.attrs["run"]), index[call.agent.name]] = answer
            if asked:
                steps.append(grid)
        return steps

    def _replay(self, answers: Sequence[np.ndarray], repetition: int) -> _Trajectory:
        environment = self.environment
        rng, _ = seed_streams(self.seed + _REPETITION_SEED * repetition)
        state = environment.reset(self.runs, rng)
        records: list[dict[str, np.ndarray]] = []
        played: list[np.ndarray] = []
        parse = environment.action_space.parse_action
        for grid in answers:
            active = environment.active(state)
            parsed = [parse(text) for text in grid.ravel()]
            actions = np.array([value for value, _ in parsed]).reshape(grid.shape)
            valid = np.array([ok for _, ok in parsed], dtype=bool).reshape(grid.shape)
            state, record = environment.step(state, actions, valid, rng)
            record["valid"] = valid
            record["answer"] = grid
            records.append(record)
            played.append(active)
        return _Trajectory(state, records, played)

    def _table(
        self, answers: Sequence[np.ndarray], repetition: int, names: Sequence[str]
    ) -> pd.DataFrame:
        trajectory = self._replay(answers, repetition)
        table = long_table(trajectory.records, trajectory.played)
        table.insert(0, "repetition", repetition)
        lookup: Mapping[int, str] = dict(enumerate(names))
        table.insert(4, "agent_name", table["agent"].map(lookup))
        return table
