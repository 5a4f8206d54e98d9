"""Checks at the boundary of the public metric functions, and the one way they report an
undefined result: NaN with an `UndefinedMetricWarning` naming the metric and the reason.

Option errors share one message shape: ``function: `option` must be RULE; got VALUE.``
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.responses import Responses

Seed = int | np.random.Generator | None
"""What every function that draws accepts as ``rng``: a seed, a Generator, or None."""


def check_responses(responses: object, function: str) -> Responses:
    if not isinstance(responses, Responses):
        raise InputError(
            f"{function}: expected a monoculture.Responses; got {type(responses).__name__}. "
            "Build one with Responses.from_long(table) or Responses.from_arrays(correct=...)."
        )
    return responses


def prepare(responses: object, function: str, *, complete_only: bool = False) -> Responses:
    """Check ``responses`` and, with ``complete_only``, keep the items every agent was
    scored on (warning when none is left: every figure is then undefined)."""
    responses = check_responses(responses, function)
    if not complete_only:
        return responses
    complete = responses.complete_only()
    if complete.n_items == 0:
        warn_undefined_because(function, "complete_only=True leaves no item scored by every agent")
    return complete


def require_answers(responses: Responses, function: str) -> np.ndarray:
    """The answer codes; an `InputError` when only correctness is known."""
    if responses.answers is None:
        raise InputError(
            f"{function}: needs the agents' answers, not only correctness; give an answer "
            "column (from_long) or `answers=` (from_arrays)."
        )
    return responses.answers


def check_fraction(value: float, name: str, function: str) -> None:
    if not (isinstance(value, int | float) and 0.0 < value <= 1.0):
        raise InputError(f"{function}: `{name}` must be a number in (0, 1]; got {value!r}.")


def check_count(value: int, name: str, function: str, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{function}: `{name}` must be an integer >= {minimum}; got {value!r}.")


def check_positive(value: float, name: str, function: str) -> None:
    if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
        raise InputError(f"{function}: `{name}` must be a number > 0; got {value!r}.")


def check_choice(value: Any, name: str, function: str, choices: Iterable[str]) -> None:
    allowed = list(choices)
    if value not in allowed:
        shown = ", ".join(repr(c) for c in allowed)
        raise InputError(f"{function}: `{name}` must be one of {shown}; got {value!r}.")


def make_rng(rng: Seed, function: str) -> np.random.Generator:
    if rng is not None and not isinstance(rng, int | np.integer | np.random.Generator):
        raise InputError(
            f"{function}: `rng` must be an int seed, a numpy.random.Generator or None; got "
            f"{type(rng).__name__}."
        )
    return np.random.default_rng(rng)


def rng_label(rng: Seed) -> str:
    """How a run's randomness is recorded: the seed, or that a Generator was passed."""
    if isinstance(rng, int | np.integer):
        return f"seed {int(rng)}"
    return "a caller's Generator" if rng is not None else "fresh entropy"


def warn_undefined_because(metric: str, reason: str) -> None:
    warnings.warn(f"{metric} is undefined (NaN): {reason}.", UndefinedMetricWarning, stacklevel=3)


def warn_undefined(values: Any, metric: str, reason: str | None = None) -> None:
    """Warn once when a result holds NaN: undefined is NaN with a warning, never a silent 0."""
    array = np.asarray(values, dtype=np.float64)
    undefined = int(np.isnan(array).sum())
    if undefined:
        why = reason or (
            "too few shared items, or an agent that is always right or always wrong on them"
        )
        warnings.warn(
            f"{metric}: {undefined} of {array.size} value(s) are undefined (NaN): {why}.",
            UndefinedMetricWarning,
            stacklevel=3,
        )


def defined_or_warn(value: float, metric: str, reason: str) -> float:
    """``value`` as a float; a warning with ``reason`` when it is NaN."""
    if np.isnan(value):
        warn_undefined_because(metric, reason)
        return float("nan")
    return float(value)
