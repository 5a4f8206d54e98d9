"""Agents: who answers (backend, model, constitution, decoding) and how calls are made."""

from monoculture.agents.http import CallError, ChatClient, RetryPolicy
from monoculture.agents.local import (
    EMBEDDED_MODELS,
    EmbeddedModel,
    LocalModelServer,
    default_model_path,
    embedded_model,
    gemma_model_path,
    local_model_file,
)
from monoculture.agents.spec import AgentSpec

__all__ = [
    "EMBEDDED_MODELS",
    "AgentSpec",
    "CallError",
    "ChatClient",
    "EmbeddedModel",
    "LocalModelServer",
    "RetryPolicy",
    "default_model_path",
    "embedded_model",
    "gemma_model_path",
    "local_model_file",
]
