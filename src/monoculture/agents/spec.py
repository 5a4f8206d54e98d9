"""`AgentSpec`: one agent = backend + model + constitution + decoding parameters + role."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AgentSpec"]


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
    # Scripted agents: a latent-factor model of correctness (synthetic, labelled as such).
    accuracy: float = Field(0.7, gt=0, lt=1, description="Scripted: marginal accuracy.")
    loading: float = Field(0.5, ge=0, le=1, description="Scripted: weight of the blind spot.")
