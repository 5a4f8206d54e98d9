"""One interface for vectorised and LLM agents: `ActionSpace`, `Environment`, `Policy`, and
`play`, which runs a vectorised policy through an environment for many runs at once.

An environment's state is vectorised over runs. Each step it shows every agent its
observation (named numbers ``(runs, n_agents)`` for a vectorised policy, a text prompt for an
LLM agent), takes one action per (run, agent) and applies the transition. An action that is
not in the action space (an LLM's unparseable or out-of-range answer, or a policy's value
outside the range) is recorded ``valid = False`` and replaced by the environment's documented
default; it is never guessed.

Results are a long table, one row per (run, step, agent) of the steps a run played (a run
ends when its environment says so, e.g. a collapsed commons), with ``action``, ``valid``
and the state before and after the step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.tasks.items import LETTERS

__all__ = [
    "ActionSpace",
    "Environment",
    "EnvironmentResult",
    "Policy",
    "long_table",
    "play",
    "seed_streams",
]

StateT = TypeVar("StateT")

# A signed decimal with optional thousands separators and exponent: "12", "-3", "1,000",
# "2.5", ".5", "1e9". Only the first number in a text is read.
_NUMBER = re.compile(r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?")


def _first_number(text: str) -> str | None:
    match = _NUMBER.search(text)
    return match.group(0) if match else None


@dataclass(frozen=True)
class ActionSpace:
    """What an agent may answer: a number in ``[low, high]`` (an integer when ``integer``),
    or one of ``options`` (by its text or its letter; the action is the option's index).

    ``default`` replaces an invalid action: a number, or NaN where the environment fills it
    from the state (see its docstring).

    Example:
        >>> space = ActionSpace(low=0, high=100, integer=True, default=0.0)
        >>> space.parse_action("I'll take 12 tons.")
        (12.0, True)
        >>> space.parse_action("twelve")
        (0.0, False)
    """

    kind: Literal["number", "option"] = "number"
    low: float = -math.inf
    high: float = math.inf
    integer: bool = False
    options: tuple[str, ...] = ()
    default: float = 0.0

    def __post_init__(self) -> None:
        if self.kind == "option" and not self.options:
            raise InputError("ActionSpace: kind 'option' needs options; got none.")
        if self.kind == "number" and not self.low <= self.high:
            raise InputError(
                f"ActionSpace: low must not exceed high; got low={self.low}, high={self.high}."
            )

    @property
    def letters(self) -> tuple[str, ...]:
        """The option letters (empty for a number)."""
        return tuple(LETTERS[: len(self.options)]) if self.kind == "option" else ()

    def parse_action(self, text: str | None) -> tuple[float, bool]:
        """``(action, valid)`` from an agent's text.

        A number: the first number in the text (``"I'll take 12 tons."`` is 12; thousands
        separators and exponents are read), valid when it lies in ``[low, high]`` and, for an
        integer space, is whole. Number words (``"twelve"``), empty text, a fraction where an
        integer is asked for, and a value out of range are invalid: ``(default, False)``.
        An option: the text equal to an option (case and surrounding space ignored) or its
        letter, alone or as ``"B)"`` / ``"(B)"``.
        """
        if text is None or not text.strip():
            return self.default, False
        if self.kind == "option":
            said = text.strip().strip(".").strip()
            for index, (letter, option) in enumerate(zip(self.letters, self.options, strict=True)):
                if said.lower() == option.lower() or said.strip("()") == letter:
                    return float(index), True
            return self.default, False
        token = _first_number(text)
        if token is None:
            return self.default, False
        try:
            value = float(token.replace(",", ""))
        except ValueError:  # pragma: no cover - the pattern only matches numbers
            return self.default, False
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return self.default, False
        if self.integer and value != math.floor(value):
            return self.default, False
        return value, True

    def check(self, actions: np.ndarray) -> np.ndarray:
        """Whether each of a vectorised policy's ``actions`` is in the space (same shape)."""
        actions = np.asarray(actions, dtype=np.float64)
        if self.kind == "option":
            inside = (actions >= 0) & (actions < len(self.options))
            return np.asarray(inside & (actions == np.floor(actions)))
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(actions) & (actions >= self.low) & (actions <= self.high)
            if self.integer:
                inside &= actions == np.floor(actions)
        return np.asarray(inside)


class Environment(Protocol[StateT]):
    """A multi-agent environment, vectorised over runs.

    Attributes:
        name: a short word, used in item ids (``commons-r3-s5``).
        n_agents: agents per run.
        n_steps: the most steps a run lasts.
        action_space: what each agent answers.
        columns: the state columns each step adds to the long table (before and after).
    """

    @property
    def name(self) -> str: ...

    @property
    def n_agents(self) -> int: ...

    @property
    def n_steps(self) -> int: ...

    @property
    def action_space(self) -> ActionSpace: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    def reset(self, runs: int, rng: np.random.Generator) -> StateT:
        """The state of ``runs`` fresh runs."""
        ...

    def active(self, state: StateT) -> np.ndarray:
        """``(runs,)`` bool: which runs still play."""
        ...

    def observe(self, state: StateT) -> dict[str, np.ndarray]:
        """Each agent's observation as named ``(runs, n_agents)`` arrays."""
        ...

    def prompt(self, state: StateT, run: int, agent: int) -> str:
        """Agent ``agent``'s observation in run ``run`` as a text prompt."""
        ...

    def reference_answer(self, state: StateT, run: int) -> str:
        """A number written as the item's answer for this (run, step): what the runner's
        answer extraction reads numbers against (e.g. the sustainable harvest)."""
        ...

    def step(
        self, state: StateT, actions: np.ndarray, valid: np.ndarray, rng: np.random.Generator
    ) -> tuple[StateT, dict[str, np.ndarray]]:
        """Apply ``actions`` ``(runs, n_agents)`` (invalid ones replaced by the default) to
        every run; return the new state and this step's record: named ``(runs, n_agents)``
        arrays, ``action`` (the action applied) among them. Rows of runs that had already
        ended are dropped by the caller."""
        ...


class Policy(Protocol):
    """A vectorised agent population: actions for every (run, agent) at once."""

    def reset(self, runs: int, n_agents: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The policy's per-run memory (e.g. biases fixed for a run)."""
        ...

    def act(
        self,
        observation: Mapping[str, np.ndarray],
        memory: dict[str, np.ndarray],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``(runs, n_agents)`` actions from the observation (named ``(runs, n_agents)``)."""
        ...


@dataclass(frozen=True)
class EnvironmentResult:
    """A played environment.

    Attributes:
        table: one row per (run, step, agent) of the steps played: ``run``, ``step``
            (0-based), ``agent`` (0-based), ``action``, ``valid`` and the environment's
            state columns.
        runs: number of runs; seed: the seed of `seed_streams`.
        environment: the environment's name.
    """

    table: pd.DataFrame
    runs: int
    seed: int
    environment: str
    notes: tuple[str, ...] = field(default=())


def seed_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The environment's and the policy's random streams for ``seed``: `play` uses both; the
    LLM bridge uses the first, so an LLM run and a vectorised run with the same seed see the
    same environment randomness."""
    environment, policy = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(environment), np.random.default_rng(policy)


def long_table(records: list[dict[str, np.ndarray]], played: list[np.ndarray]) -> pd.DataFrame:
    """The long table of a trajectory: ``records[t][name]`` is ``(runs, n_agents)``;
    ``played[t]`` ``(runs,)`` says which runs played step t. Rows sorted by run, step, agent."""
    if not records:
        return pd.DataFrame(columns=["run", "step", "agent", "action", "valid"])
    _runs, n_agents = records[0]["action"].shape
    mask = np.stack(played, axis=1)  # (runs, steps)
    run, step = np.nonzero(mask)
    columns: dict[str, Any] = {
        "run": np.repeat(run, n_agents),
        "step": np.repeat(step, n_agents),
        "agent": np.tile(np.arange(n_agents), len(run)),
    }
    for name in records[0]:
        stacked = np.stack([record[name] for record in records], axis=1)  # (runs, steps, n)
        columns[name] = stacked[run, step].ravel()
    return pd.DataFrame(columns)


def play(
    environment: Environment[Any], policy: Policy, *, runs: int, seed: int = 0
) -> EnvironmentResult:
    """Play ``environment`` with a vectorised ``policy`` for ``runs`` runs (one Python
    iteration per step; every run and agent at once within a step).

    A policy's action outside the action space is treated like an LLM's invalid answer:
    recorded ``valid = False`` and replaced by the environment's default.

    Example:
        >>> from monoculture.environments import Commons, CommonsPolicy
        >>> result = play(Commons(), CommonsPolicy(fraction=1.0, sigma=0.0), runs=3)
        >>> int(result.table["step"].max()), bool(result.table["collapsed"].any())
        (11, False)
    """
    if runs < 1:
        raise InputError(f"play: runs must be at least 1; got {runs}.")
    environment_rng, policy_rng = seed_streams(seed)
    state = environment.reset(runs, environment_rng)
    memory = policy.reset(runs, environment.n_agents, policy_rng)
    records: list[dict[str, np.ndarray]] = []
    played: list[np.ndarray] = []
    for _ in range(environment.n_steps):
        active = environment.active(state)
        if not active.any():
            break
        actions = np.asarray(
            policy.act(environment.observe(state), memory, policy_rng), dtype=np.float64
        )
        if actions.shape != (runs, environment.n_agents):
            raise InputError(
                f"play: the policy returned actions of shape {actions.shape}; it must return "
                f"(runs, n_agents) = {(runs, environment.n_agents)}."
            )
        valid = environment.action_space.check(actions)
        state, record = environment.step(state, actions, valid, environment_rng)
        record["valid"] = valid
        records.append(record)
        played.append(active)
    return EnvironmentResult(long_table(records, played), runs, seed, environment.name)
