"""`AgentSpec`: one agent = backend + model + constitution + decoding parameters + role."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_MODEL",
    "AgentSpec",
    "ClozeNormalisation",
    "Elicitation",
    "OptionOrder",
    "PromptStyle",
]

DEFAULT_MODEL = "SmolLM2-135M-Instruct"

Elicitation = Literal["letter", "text", "cloze"]
"""How a multiple-choice answer is asked for: ``letter`` (the option's letter, constrained
by a grammar), ``text`` (the option's text, constrained by a grammar of the option strings)
or ``cloze`` (each option scored by its log-likelihood as the continuation of
``Question: ...\nAnswer:``; nothing is generated)."""

OptionOrder = Literal["fixed", "shuffle_item", "shuffle_agent"]
"""The order the options are shown in: as the item lists them, shuffled per item (the same
for every agent), or shuffled per agent and item."""

PromptStyle = Literal["chat", "completion"]
"""``chat``: the model's chat template (instruction models); ``completion``: plain text
ending in ``Answer:`` (base models)."""

ClozeNormalisation = Literal["tokens", "bytes", "none"]
"""A cloze option's score: its summed token log-probability divided by its number of tokens
(the default: the log of the geometric-mean token probability; exact next-token
probabilities for one-token options), by its length in UTF-8 bytes (lm-evaluation-harness's
``acc_norm``), or not at all (favours short options)."""


class AgentSpec(BaseModel):
    """Everything that defines an agent's behaviour (and so its cache key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(description="Unique agent name.")
    backend: Literal["openai", "local", "scripted"] = Field(
        "local",
        description="openai: any OpenAI-compatible endpoint; local: the embedded "
        "GGUF model; scripted: a synthetic latent-factor agent.",
    )
    model: str = Field("SmolLM2-135M-Instruct", description="Model name (or GGUF path).")
    base_url: str | None = Field(None, description="Endpoint for backend 'openai'.")
    api_key_env: str | None = Field(
        None, description="Environment variable holding the API key (never stored)."
    )
    constitution: str = Field("", description="System prompt: the agent's rules.")
    constitution_name: str = Field("default", description="Short name of the constitution.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 = greedy.")
    seed: int = Field(0, description="Sampling seed.")
    max_tokens: int = Field(16, ge=1, description="Longest answer.")
    role: Literal["worker", "supervisor"] = "worker"
    elicitation: Elicitation = Field("letter", description="How answers are asked for.")
    option_order: OptionOrder = Field("fixed", description="The order options are shown in.")
    prompt_style: PromptStyle = Field("chat", description="Chat template or plain completion.")
    cloze_normalisation: ClozeNormalisation = Field(
        "tokens", description="Cloze: how an option's summed log-probability is normalised."
    )
    # Scripted agents: a latent-factor model of correctness (synthetic, labelled as such).
    accuracy: float = Field(0.7, gt=0, lt=1, description="Scripted: marginal accuracy.")
    loading: float = Field(0.5, ge=0, le=1, description="Scripted: weight of the blind spot.")
