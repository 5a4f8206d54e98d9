"""monoculture: measure and counter correlated failure in swarms of AI agents.

Build a `Responses` from item-level results (``Responses.from_long`` or
``monoculture.io.read_responses``), then ``analyze`` it, or call single metrics from
``monoculture.metrics``.
"""

from monoculture.analysis import Analysis, analyze
from monoculture.errors import InputError, MonocultureError
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
