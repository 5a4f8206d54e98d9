"""Per-agent figures: accuracy and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.metrics._arrays import safe_divide
from monoculture.metrics._validate import check_responses, prepare, warn_undefined
from monoculture.responses import Responses

__all__ = ["accuracy", "coverage"]


def accuracy(responses: Responses, *, complete_only: bool = False) -> pd.Series:
    """Share of each agent's scored items that it got right, ``(n_agents,)``.

    NaN, with an `UndefinedMetricWarning`, for an agent scored on no item.

    Example:
        >>> from monoculture import Responses
        >>> accuracy(Responses.from_arrays(correct=[[1, 0], [1, 1]])).tolist()
        [1.0, 0.5]
    """
    responses = prepare(responses, "accuracy", complete_only=complete_only)
    values = agent_accuracies(responses)
    warn_undefined(values, "accuracy", "an agent scored on no item")
    return pd.Series(values, index=pd.Index(responses.agents, name="agent"), name="accuracy")


def agent_accuracies(responses: Responses) -> np.ndarray:
    """``(n_agents,)`` accuracies, NaN for an agent scored on no item (no warning: callers
    that need every agent decide what an unscored agent means)."""
    scored = responses.observed.sum(axis=0)
    right = (responses.correct * responses.observed).sum(axis=0)
    return safe_divide(right.astype(np.float64), scored.astype(np.float64))


def coverage(responses: Responses) -> pd.Series:
    """Share of all items on which each agent was scored, ``(n_agents,)``.

    Missing cells are what it measures, so it has no ``complete_only``.

    Example:
        >>> from monoculture import Responses
        >>> coverage(Responses.from_arrays(correct=[[1, float("nan")], [0, 1]])).tolist()
        [1.0, 0.5]
    """
    responses = check_responses(responses, "coverage")
    values = responses.observed.mean(axis=0)
    return pd.Series(values, index=pd.Index(responses.agents, name="agent"), name="coverage")
