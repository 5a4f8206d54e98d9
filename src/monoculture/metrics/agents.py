"""Per-agent figures: accuracy and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.metrics._validate import check_responses
from monoculture.responses import Responses

__all__ = ["accuracy", "coverage"]


def accuracy(responses: Responses, *, complete_only: bool = False) -> pd.Series:
    """Share of each agent's scored items that it got right; NaN for an agent with none.

    Example:
        >>> from monoculture import Responses
        >>> accuracy(Responses.from_arrays(correct=[[1, 0], [1, 1]])).tolist()
        [1.0, 0.5]
    """
    responses = check_responses(responses, "accuracy")
    if complete_only:
        responses = responses.complete_only()
    scored = responses.observed.sum(axis=0)
    right = (responses.correct * responses.observed).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(scored > 0, right / np.maximum(scored, 1), np.nan)
    return pd.Series(values, index=pd.Index(responses.agents, name="agent"), name="accuracy")


def coverage(responses: Responses) -> pd.Series:
    """Share of all items on which each agent was scored."""
    responses = check_responses(responses, "coverage")
    values = responses.observed.mean(axis=0)
    return pd.Series(values, index=pd.Index(responses.agents, name="agent"), name="coverage")
