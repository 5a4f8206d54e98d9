"""Agents: who answers (backend, model, constitution, decoding) and how calls are made."""

from monoculture.agents.http import CallError, ChatClient, RetryPolicy
from monoculture.agents.local import LocalModelServer, default_model_path
from monoculture.agents.spec import AgentSpec

__all__ = [
    "AgentSpec",
    "CallError",
    "ChatClient",
    "LocalModelServer",
    "RetryPolicy",
    "default_model_path",
]
