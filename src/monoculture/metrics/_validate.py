"""Checks at the boundary of the public metric functions."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.responses import Responses


def check_responses(responses: Any, function: str) -> Responses:
    if not isinstance(responses, Responses):
        raise InputError(
            f"{function}: expected a monoculture.Responses; got {type(responses).__name__}. "
            "Build one with Responses.from_long(table) or Responses.from_arrays(correct=...)."
        )
    return responses


def require_answers(responses: Responses, function: str) -> None:
    if responses.answers is None:
        raise InputError(
            f"{function}: needs the agents' answers, not only correctness; give an answer "
            "column (from_long) or `answers=` (from_arrays)."
        )


def check_fraction(value: float, name: str, function: str) -> None:
    if not 0.0 < value <= 1.0:
        raise InputError(f"{function}: `{name}` must be in (0, 1]; got {value!r}.")


def warn_undefined(values: Any, metric: str) -> None:
    """Warn once when a result holds NaN: undefined is NaN with a warning, never a silent 0."""
    array = np.asarray(values, dtype=np.float64)
    undefined = int(np.isnan(array).sum())
    if undefined:
        warnings.warn(
            f"{metric}: {undefined} of {array.size} value(s) are undefined (NaN): too few "
            "shared items, or an agent that is always right or always wrong on them.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
