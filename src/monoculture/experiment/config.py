"""Experiment configuration (TOML): agents as a grid, tasks, topology, endpoint.

::

    name = "demo"
    topology = "debate"          # independent | debate | cascade | oversight
    rounds = 2                   # debate rounds after the independent one
    repetitions = 1

    [tasks]                      # generated probes, or file = "items.jsonl"
    n_items = 100
    form = "choice"

    [agents]                     # models x constitutions x temperatures x seeds
    backend = "local"            #   x elicitations x option_orders
    models = ["SmolLM2-135M-Instruct", "gemma-3-270m"]
    temperatures = [0.0, 0.8]
    seeds = [0, 1]
    elicitations = ["cloze"]     # letter | text | cloze
    option_orders = ["fixed", "shuffle_agent"]   # fixed | shuffle_item | shuffle_agent
    [[agents.constitutions]]
    name = "careful"
    prompt = "You are careful. Check each step before answering."

    [endpoint]                   # for backend "openai": base_url, api_key_env, limits
    concurrency = 8
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monoculture._toml import read_toml, validate
from monoculture.agents.local import embedded_model, local_model_file
from monoculture.agents.spec import (
    DEFAULT_MODEL,
    AgentSpec,
    ClozeNormalisation,
    Elicitation,
    OptionOrder,
)
from monoculture.environments import EnvironmentTopology
from monoculture.errors import InputError
from monoculture.topologies import TOPOLOGIES, register_topology

# Environments are played through the same planning protocol as the topologies; the bridge
# lives in monoculture.environments (which imports the protocol), so it registers here.
register_topology("environment", EnvironmentTopology)

__all__ = ["AgentGrid", "DesignSpec", "ExperimentConfig", "load_experiment"]


class Constitution(BaseModel):
    """A named system prompt."""

    model_config = ConfigDict(extra="forbid")
    name: str
    prompt: str


DEFAULT_CONSTITUTIONS = [
    Constitution(name="plain", prompt="You are a helpful assistant. Answer the question."),
]


def _default_elicitations() -> list[Elicitation]:
    return ["letter"]


def _default_orders() -> list[OptionOrder]:
    return ["fixed"]


class AgentGrid(BaseModel):
    """Agents as every combination of models, constitutions, temperatures, seeds,
    elicitations and option orders.

    Agent names are ``model|constitution|T<temperature>|s<seed>``, followed by
    ``|<elicitation>`` when it is not ``letter`` and ``|<option order>`` when it is not
    ``fixed``. Scripted agents are synthetic: their model is recorded as ``scripted`` (or
    ``scripted:NAME`` for each name listed in ``models``), never as a real model's name.
    """

    model_config = ConfigDict(extra="forbid")
    backend: Literal["openai", "local", "scripted"] = "local"
    models: list[str] | None = Field(
        None, description=f"Model names; default {DEFAULT_MODEL} (scripted: 'scripted')."
    )
    constitutions: list[Constitution] = Field(default_factory=lambda: list(DEFAULT_CONSTITUTIONS))
    temperatures: list[float] = Field(default_factory=lambda: [0.0])
    seeds: list[int] = Field(default_factory=lambda: [0])
    max_tokens: int = Field(16, ge=1)
    role: Literal["worker", "supervisor"] = "worker"
    accuracy: float = Field(0.7, gt=0, lt=1, description="Scripted agents only.")
    loading: float = Field(0.5, ge=0, le=1, description="Scripted agents only.")
    elicitations: list[Elicitation] = Field(
        default_factory=_default_elicitations,
        description="How answers are asked for: letter (the option's letter), text (the "
        "option's text) or cloze (each option scored by its log-likelihood as the answer).",
    )
    option_orders: list[OptionOrder] = Field(
        default_factory=_default_orders,
        description="The order options are shown in: fixed, shuffle_item (per item, the "
        "same for every agent) or shuffle_agent (per agent and item).",
    )
    prompt_style: Literal["auto", "chat", "completion"] = Field(
        "auto",
        description="chat (the chat template) or completion (plain text ending in "
        "'Answer:'); auto: completion for an embedded base model (gemma-3-270m), else chat.",
    )
    cloze_normalisation: ClozeNormalisation = Field(
        "tokens",
        description="Cloze: an option's summed log-probability divided by its tokens, its "
        "UTF-8 bytes, or none.",
    )

    @field_validator(
        "models", "constitutions", "temperatures", "seeds", "elicitations", "option_orders"
    )
    @classmethod
    def _not_empty(cls, values: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        if values is not None and not values:
            raise ValueError(
                f"{info.field_name} must list at least one value (the grid has one agent per "
                f"combination); got an empty list. Give one, or leave the key out for the default."
            )
        return values

    @field_validator("temperatures")
    @classmethod
    def _temperatures(cls, values: list[float]) -> list[float]:
        bad = [t for t in values if not (math.isfinite(t) and t >= 0)]
        if bad:
            raise ValueError(
                f"temperatures must be finite and >= 0 (0 = greedy decoding); got {bad}. "
                "Use 0 or a positive value."
            )
        return values

    @field_validator("constitutions")
    @classmethod
    def _constitution_names(cls, values: list[Constitution]) -> list[Constitution]:
        names = Counter(c.name for c in values)
        repeated = sorted(name for name, n in names.items() if n > 1)
        if repeated:
            raise ValueError(
                f"constitution names must be unique (they name the agents); {repeated} "
                "appear more than once. Rename or remove the repeats."
            )
        return values

    @model_validator(mode="after")
    def _unique_agents(self) -> AgentGrid:
        agents = Counter(self.agent_names())
        clashes = sorted(name for name, n in agents.items() if n > 1)
        if clashes:
            raise ValueError(
                f"every agent needs its own name, but {len(clashes)} name(s) are shared, e.g. "
                f"{clashes[0]!r} (repeated or equal-looking values in models, temperatures or "
                "seeds). Remove the repeats."
            )
        return self

    def model_names(self) -> list[str]:
        """The models as recorded: scripted agents are labelled ``scripted``."""
        if self.backend == "scripted":
            return ["scripted"] if self.models is None else [f"scripted:{m}" for m in self.models]
        return self.models or [DEFAULT_MODEL]

    def _grid(self) -> list[tuple[str, Constitution, float, int, Elicitation, OptionOrder]]:
        return list(
            itertools.product(
                self.model_names(),
                self.constitutions,
                self.temperatures,
                self.seeds,
                list(dict.fromkeys(self.elicitations)),
                list(dict.fromkeys(self.option_orders)),
            )
        )

    def agent_names(self, prefix: str = "") -> list[str]:
        return [
            f"{prefix}{model.split('/')[-1].removesuffix('.gguf')}|{constitution.name}"
            f"|T{temperature:g}|s{seed}"
            + (f"|{elicitation}" if elicitation != "letter" else "")
            + (f"|{order}" if order != "fixed" else "")
            for model, constitution, temperature, seed, elicitation, order in self._grid()
        ]

    def _prompt_style(self, model: str) -> Literal["chat", "completion"]:
        if self.prompt_style != "auto":
            return self.prompt_style
        embedded = embedded_model(model) if self.backend == "local" else None
        return "completion" if embedded is not None and not embedded.chat else "chat"

    def specs(self, endpoint: EndpointSpec, prefix: str = "") -> list[AgentSpec]:
        return [
            AgentSpec(
                name=name,
                backend=self.backend,
                model=model,
                base_url=endpoint.base_url,
                api_key_env=endpoint.api_key_env,
                constitution=constitution.prompt,
                constitution_name=constitution.name,
                temperature=temperature,
                seed=seed,
                max_tokens=self.max_tokens,
                role=self.role,
                accuracy=self.accuracy,
                loading=self.loading,
                elicitation=elicitation,
                option_order=order,
                prompt_style=self._prompt_style(model),
                cloze_normalisation=self.cloze_normalisation,
            )
            for name, (model, constitution, temperature, seed, elicitation, order) in zip(
                self.agent_names(prefix), self._grid(), strict=True
            )
        ]


class EndpointSpec(BaseModel):
    """Where calls go and how fast."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (backend openai).")
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the API key (never the key)."
    )
    model_path: str | None = Field(None, description="GGUF file (backend local); default SmolLM2.")
    concurrency: int = Field(
        8, ge=1, description="Requests in flight per endpoint (the local backend uses 2)."
    )
    parallel: int = Field(
        1,
        ge=1,
        description="Decoding slots of the local server (on 2 cores one slot, fed "
        "calls that share a prompt back to back, was fastest: 14 vs 7 calls/s with two).",
    )
    requests_per_minute: float | None = Field(None, gt=0)
    tokens_per_minute: float | None = Field(None, gt=0)
    max_attempts: int = Field(5, ge=1, description="Tries per call (retries + 1).")
    timeout: float = Field(30.0, gt=0, description="Seconds before a call times out.")
    constrain: Literal["auto", "grammar", "none"] = Field(
        "auto",
        description="Constrain multiple-choice answers to the option letters (or texts) "
        "with a grammar (llama.cpp servers); auto = grammar for the local backend.",
    )
    cloze: Literal["auto", "grammar", "echo"] = Field(
        "auto",
        description="How cloze options are scored: grammar (one completions request per "
        "option, forced by a grammar; llama.cpp) or echo (one request per option echoing "
        "the prompt's log-probabilities; vLLM and OpenAI-style completions); auto = grammar "
        "where answers are constrained by a grammar, else echo.",
    )

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, name: str | None) -> str | None:
        if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            # Not echoed: a value that is not a variable name may be the key itself.
            raise ValueError(
                "api_key_env must be the name of an environment variable (letters, digits, "
                'underscores), not the key itself; e.g. api_key_env = "MY_KEY" after '
                "export MY_KEY=..."
            )
        return name


class TaskSpec(BaseModel):
    """Items: a JSONL file, or generated probes."""

    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    n_items: int = Field(100, ge=1)
    families: list[str] | None = Field(
        None,
        description="Probe families (monoculture.tasks.PROBE_FAMILIES), or the groups "
        "'hard' (the default) and 'easy'.",
    )
    form: Literal["free", "choice"] = "choice"
    seed: int = 0

    @field_validator("families")
    @classmethod
    def _known_families(cls, names: list[str] | None) -> list[str] | None:
        from monoculture.tasks import expand_families

        if names is not None:
            try:
                expand_families(names)
            except InputError as error:
                raise ValueError(str(error).removeprefix("probes: ")) from None
        return names


class GuardSpec(BaseModel):
    """A gate that answers or abstains on each decision, and monitors over the decisions
    (see docs/guard.md)."""

    model_config = ConfigDict(extra="forbid")
    score: Literal["agreement", "margin", "entropy", "probability"] = Field(
        "agreement", description="The swarm's confidence the gate thresholds."
    )
    alpha: float = Field(0.1, gt=0, lt=1, description="Target quiet-failure rate.")
    delta: float = Field(0.1, gt=0, lt=1, description="1 - confidence of the ltt bound.")
    method: Literal["ltt", "crc"] = "ltt"
    gate: str | None = Field(
        None,
        description="A gate file (monoculture guard calibrate -o); without one the gate is "
        "calibrated on calibration_share of each round's items and applied to the rest.",
    )
    calibration_share: float = Field(0.5, gt=0, lt=1)
    monitors: str | None = Field(
        None, description="A monitors.toml replayed over each round's decisions, item by item."
    )


_DESIGN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class DesignSpec(BaseModel):
    """One swarm design of an environment experiment (``[[environment.designs]]``): its
    ``agents`` settings replace those of ``[agents]`` (the rest of ``[agents]`` is kept),
    and ``more_agents``, when given, replaces ``[[more_agents]]``. Every design plays the
    same environment with the same seeds, in its own folder ``<output>/<name>/``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="A folder name: letters, digits, '-' and '_'.")
    agents: dict[str, Any] = Field(default_factory=dict)
    more_agents: list[dict[str, Any]] | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _DESIGN_NAME.match(name):
            raise ValueError(
                f"design name {name!r} must be 1-64 letters, digits, '-' or '_' (it names "
                "the design's folder), starting with a letter or digit"
            )
        return name


class EnvironmentSpec(BaseModel):
    """A multi-step environment played by the workers (``topology = "environment"``):
    ``kind``, ``runs``, ``seed``, the swarm ``designs`` to compare and the environment's
    own options (docs/environments.md), e.g. ``communication``, ``n_steps``, ``capacity``
    for the commons."""

    model_config = ConfigDict(extra="allow")
    kind: Literal["commons", "estimation"]
    runs: int = Field(10, ge=1, description="Independent runs played in parallel.")
    seed: int = Field(0, description="Seed of the environment's randomness.")
    designs: list[DesignSpec] = Field(
        default_factory=list,
        description="Swarm designs played on the same environment and seeds (none: the "
        "experiment's own agents are the one design).",
    )
    simulator_runs: int = Field(
        1000,
        ge=0,
        description="Runs of the parametric simulator fitted to each design's agents "
        "(0: no simulator prediction).",
    )


class ExperimentConfig(BaseModel):
    """A whole experiment."""

    model_config = ConfigDict(extra="forbid")
    name: str = "experiment"
    topology: str = Field(
        "independent",
        description="A name in monoculture.topologies.TOPOLOGIES: independent, debate, "
        "cascade, oversight, orchestrator, or one registered with register_topology.",
    )
    rounds: int = Field(2, ge=0, description="Debate rounds after the independent one.")
    repetitions: int = Field(1, ge=1)
    conformity_control: bool = Field(
        True,
        description="Debate: re-ask each agent without peers, to measure the causal "
        "effect of seeing them.",
    )
    control_items: int | None = Field(
        None, ge=1, description="Re-ask without peers on only the first N items (all if unset)."
    )
    bootstrap: int = Field(1000, ge=0)
    aggregators: list[str] = Field(
        default_factory=list,
        description="Aggregators that turn each answer round into the swarm's decision, "
        "compared on held-out items (names of monoculture.aggregate.AGGREGATORS).",
    )
    aggregation_split: float = Field(
        0.5, gt=0, lt=1, description="Share of the items the aggregators are fitted on."
    )
    predictions: bool = Field(
        False,
        description="Also ask every worker which option a randomly chosen other agent picked "
        "(its option probabilities are its predicted shares): the input of the "
        "surprisingly_popular aggregator.",
    )
    guard: GuardSpec | None = None
    environment: EnvironmentSpec | None = None
    tasks: TaskSpec = Field(default_factory=lambda: TaskSpec.model_validate({}))
    agents: AgentGrid = Field(default_factory=lambda: AgentGrid.model_validate({}))
    more_agents: list[AgentGrid] = Field(
        default_factory=list,
        description="More worker grids ([[more_agents]]), e.g. agents asked another way: "
        "their agents join the workers; every agent's name must stay unique.",
    )
    supervisors: AgentGrid | None = None
    endpoint: EndpointSpec = Field(default_factory=lambda: EndpointSpec.model_validate({}))

    @field_validator("topology")
    @classmethod
    def _known_topology(cls, name: str) -> str:
        if name not in TOPOLOGIES:
            raise ValueError(f"unknown topology {name!r}; choose one of {sorted(TOPOLOGIES)}")
        return name

    @field_validator("aggregators")
    @classmethod
    def _known_aggregators(cls, names: list[str]) -> list[str]:
        from monoculture.aggregate import AGGREGATORS

        unknown = [name for name in names if name not in AGGREGATORS]
        if unknown:
            raise ValueError(
                f"unknown aggregator(s) {unknown}; choose from {', '.join(AGGREGATORS)}"
            )
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if "surprisingly_popular" in self.aggregators and not self.predictions:
            raise ValueError(
                "aggregator 'surprisingly_popular' needs the agents' predictions of the others' "
                "answers; set predictions = true"
            )
        if self.predictions and self.tasks.form != "choice" and not self.tasks.file:
            raise ValueError(
                "predictions = true asks which option others chose, so it needs "
                'multiple-choice items; set [tasks] form = "choice"'
            )
        if TOPOLOGIES[self.topology].needs_supervisors and self.supervisors is None:
            raise ValueError(f"topology {self.topology!r} needs a [supervisors] grid")
        self._check_environment()
        backends = {grid.backend for grid in self._grids() if grid.backend != "scripted"}
        if len(backends) > 1:
            raise ValueError(
                f"agents and supervisors use backends {sorted(backends)}, but an experiment has "
                "one endpoint; give both grids the same backend (or make one 'scripted')."
            )
        if "openai" in backends and not self.endpoint.base_url:
            raise ValueError("backend 'openai' needs endpoint.base_url")
        for grid in self._grids():
            options = {"text", "cloze"} & set(grid.elicitations)
            if options and self.tasks.form == "free" and not self.tasks.file:
                raise ValueError(
                    f"elicitation {sorted(options)} needs multiple-choice items; set [tasks] "
                    'form = "choice", or use elicitation "letter" for free answers.'
                )
            if grid.backend == "local":
                for model in grid.model_names():
                    try:
                        local_model_file(model, self.endpoint.model_path)
                    except InputError as error:
                        raise ValueError(str(error)) from None
        try:  # every rule of an agent, checked before anything runs
            names = Counter(a.name for a in [*self.worker_specs(), *self.supervisor_specs()])
        except ValidationError as error:
            first = error.errors()[0]
            raise ValueError(
                f"agent setting {'.'.join(map(str, first['loc']))}: {first['msg']}"
            ) from None
        clashes = sorted(name for name, n in names.items() if n > 1)
        if clashes:
            raise ValueError(
                f"every agent needs its own name, but [agents] and [[more_agents]] share "
                f"{len(clashes)}, e.g. {clashes[0]!r}; make the grids differ (another "
                "elicitation, option order, constitution name, temperature or seed)."
            )
        return self

    def _grids(self) -> list[AgentGrid]:
        grids = [self.agents, *self.more_agents]
        return grids if self.supervisors is None else [*grids, self.supervisors]

    def _check_environment(self) -> None:
        """An environment and its topology go together; its options are checked by building
        it, and per-item figures (aggregators, the gate, predictions) do not apply."""
        if (self.topology == "environment") != (self.environment is not None):
            raise ValueError(
                'topology = "environment" and an [environment] table go together; give both '
                "or neither"
            )
        if self.environment is None:
            return
        if self.aggregators or self.guard is not None or self.predictions:
            raise ValueError(
                "aggregators, [guard] and predictions decide items of an answer round; an "
                "environment experiment has steps instead: leave them out"
            )
        try:
            EnvironmentTopology.from_config(self)
        except (InputError, TypeError, ValueError) as error:
            raise ValueError(f"[environment]: {error}") from None
        designs = self.design_configs()  # each design checked as an experiment of its own
        sizes = {name: len(design.worker_specs()) for name, design in designs.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(
                "[environment] designs must have as many agents each (they play the same "
                f"environment); got {sizes}"
            )

    def design_configs(self) -> dict[str, ExperimentConfig]:
        """The experiment of each ``[[environment.designs]]`` entry by name (empty without
        designs): ``[agents]`` updated with the design's settings, named
        ``<name>-<design>``.

        Raises:
            ValueError: two designs share a name, or a design's experiment is invalid (the
                message names the design).
        """
        if self.environment is None or not self.environment.designs:
            return {}
        # Folder names: "A" and "a" are one folder on some file systems.
        names = Counter(design.name.lower() for design in self.environment.designs)
        twice = sorted(name for name, n in names.items() if n > 1)
        if twice:
            raise ValueError(
                f"[environment] designs need their own names (case aside: they name "
                f"folders); {twice} repeat"
            )
        base = self.model_dump(exclude_unset=True)
        base["environment"] = {**base["environment"], "designs": []}
        configs = {}
        for design in self.environment.designs:
            raw = {
                **base,
                "name": f"{self.name}-{design.name}",
                "agents": {**base.get("agents", {}), **design.agents},
            }
            if design.more_agents is not None:
                raw["more_agents"] = design.more_agents
            try:
                configs[design.name] = ExperimentConfig.model_validate(raw)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(map(str, first["loc"]))
                message = first["msg"].removeprefix("Value error, ")
                if first["type"] == "extra_forbidden" and first["loc"][:1] == ("agents",):
                    message += f"; [agents] takes {', '.join(sorted(AgentGrid.model_fields))}"
                raise ValueError(
                    f"[environment] design {design.name!r}: {where}: {message}"
                    if where
                    else f"[environment] design {design.name!r}: {message}"
                ) from None
        return configs

    @property
    def model_backend(self) -> Literal["openai", "local"] | None:
        """The backend of the calls that go to a model (None when every agent is scripted)."""
        for grid in self._grids():
            if grid.backend != "scripted":
                return grid.backend
        return None

    def worker_specs(self) -> list[AgentSpec]:
        return [
            spec for grid in (self.agents, *self.more_agents) for spec in grid.specs(self.endpoint)
        ]

    def supervisor_specs(self) -> list[AgentSpec]:
        if self.supervisors is None:
            return []
        grid = self.supervisors.model_copy(update={"role": "supervisor"})
        return grid.specs(self.endpoint, prefix="supervisor:")


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment TOML; errors name the key and the line."""
    raw, text = read_toml(path)
    return validate(ExperimentConfig, raw, text, path)
