"""monoculture: measure and counter correlated failure in swarms of AI agents.

Build a `Responses` from item-level results (``Responses.from_long`` or
``monoculture.io.read_responses``), then ``analyze`` it, or call single metrics from
``monoculture.metrics``.

The data structure and the analysis load on first use, so that ``monoculture --help``
does not wait for numpy, pandas and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from monoculture.errors import InputError, MonocultureError

if TYPE_CHECKING:
    from monoculture.analysis import Analysis, analyze
    from monoculture.responses import InputSummary, Responses

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "InputError",
    "InputSummary",
    "MonocultureError",
    "Responses",
    "__version__",
    "analyze",
]

_LAZY = {
    "Analysis": "monoculture.analysis",
    "analyze": "monoculture.analysis",
    "InputSummary": "monoculture.responses",
    "Responses": "monoculture.responses",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'monoculture' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
