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
    backend = "local"
    temperatures = [0.0, 0.8]
    seeds = [0, 1]
    [[agents.constitutions]]
    name = "careful"
    prompt = "You are careful. Check each step before answering."

    [endpoint]                   # for backend "openai": base_url, api_key_env, limits
    concurrency = 8
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monoculture._toml import read_toml, validate
from monoculture.agents.spec import AgentSpec
from monoculture.topologies import TOPOLOGIES

__all__ = ["AgentGrid", "ExperimentConfig", "load_experiment"]


class Constitution(BaseModel):
    """A named system prompt."""

    model_config = ConfigDict(extra="forbid")
    name: str
    prompt: str


DEFAULT_CONSTITUTIONS = [
    Constitution(name="plain", prompt="You are a helpful assistant. Answer the question."),
]


class AgentGrid(BaseModel):
    """Agents as every combination of models, constitutions, temperatures and seeds."""

    model_config = ConfigDict(extra="forbid")
    backend: Literal["openai", "local", "scripted"] = "local"
    models: list[str] = Field(default_factory=lambda: ["SmolLM2-135M-Instruct"])
    constitutions: list[Constitution] = Field(default_factory=lambda: list(DEFAULT_CONSTITUTIONS))
    temperatures: list[float] = Field(default_factory=lambda: [0.0])
    seeds: list[int] = Field(default_factory=lambda: [0])
    max_tokens: int = Field(16, ge=1)
    role: Literal["worker", "supervisor"] = "worker"
    accuracy: float = Field(0.7, gt=0, lt=1, description="Scripted agents only.")
    loading: float = Field(0.5, ge=0, le=1, description="Scripted agents only.")

    def specs(self, endpoint: EndpointSpec, prefix: str = "") -> list[AgentSpec]:
        out = []
        for model, constitution, temperature, seed in itertools.product(
            self.models, self.constitutions, self.temperatures, self.seeds
        ):
            short = (
                "scripted"
                if self.backend == "scripted"
                else model.split("/")[-1].removesuffix(".gguf")
            )
            out.append(
                AgentSpec(
                    name=f"{prefix}{short}|{constitution.name}|T{temperature:g}|s{seed}",
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
                )
            )
        return out


class EndpointSpec(BaseModel):
    """Where calls go and how fast."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (backend openai).")
    api_key_env: str | None = Field(None, description="Variable holding the API key.")
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
        description="Constrain multiple-choice answers to the option letters with a "
        "grammar (llama.cpp servers); auto = grammar for the local backend.",
    )


class TaskSpec(BaseModel):
    """Items: a JSONL file, or generated probes."""

    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    n_items: int = Field(100, ge=1)
    families: list[str] | None = None
    form: Literal["free", "choice"] = "choice"
    seed: int = 0


class ExperimentConfig(BaseModel):
    """A whole experiment."""

    model_config = ConfigDict(extra="forbid")
    name: str = "experiment"
    topology: str = Field(
        "independent",
        description="A name in monoculture.topologies.TOPOLOGIES: independent, debate, "
        "cascade, oversight, or one registered with register_topology.",
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
    tasks: TaskSpec = Field(default_factory=lambda: TaskSpec.model_validate({}))
    agents: AgentGrid = Field(default_factory=lambda: AgentGrid.model_validate({}))
    supervisors: AgentGrid | None = None
    endpoint: EndpointSpec = Field(default_factory=lambda: EndpointSpec.model_validate({}))

    @field_validator("topology")
    @classmethod
    def _known_topology(cls, name: str) -> str:
        if name not in TOPOLOGIES:
            raise ValueError(f"unknown topology {name!r}; choose one of {sorted(TOPOLOGIES)}")
        return name

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        if TOPOLOGIES[self.topology].needs_supervisors and self.supervisors is None:
            raise ValueError(f"topology {self.topology!r} needs a [supervisors] grid")
        if self.agents.backend == "openai" and not self.endpoint.base_url:
            raise ValueError("backend 'openai' needs endpoint.base_url")
        return self

    def worker_specs(self) -> list[AgentSpec]:
        return self.agents.specs(self.endpoint)

    def supervisor_specs(self) -> list[AgentSpec]:
        if self.supervisors is None:
            return []
        grid = self.supervisors.model_copy(update={"role": "supervisor"})
        return grid.specs(self.endpoint, prefix="supervisor:")


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment TOML; errors name the key and the line."""
    raw, text = read_toml(path)
    return validate(ExperimentConfig, raw, text, path)
