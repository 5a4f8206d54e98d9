"""Small array helpers every metric module shares: safe division, agent matrices, answer
tallies per item, and Kish's effective number of agents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monoculture.metrics._validate import warn_undefined
from monoculture.responses import Responses


def safe_divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom`` where ``bottom > 0``, NaN elsewhere (undefined, not 0 or inf).

    Every denominator here is a count, a variance or ``1 - agreement``: never negative in
    exact arithmetic, so a rounding-level negative is treated as zero too.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def agent_frame(
    matrix: np.ndarray, responses: Responses, metric: str | None = None
) -> pd.DataFrame:
    """An agent x agent matrix as a DataFrame; warns when ``metric`` has undefined cells
    (``None`` for callers that report undefined cells themselves)."""
    if metric is not None:
        warn_undefined(matrix, metric)
    names = pd.Index(responses.agents, name="agent")
    return pd.DataFrame(matrix, index=names, columns=names.rename("other"))


def label_counts(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n_items, n_labels)`` int64: how many agents gave each label on each item.

    ``codes`` is ``(n_items, n_agents)`` with -1 for no answer (not counted).
    """
    n_items = codes.shape[0]
    n_labels = max(1, n_labels)
    items, agents = np.nonzero(codes >= 0)
    flat = items * n_labels + codes[items, agents]
    return np.bincount(flat, minlength=n_items * n_labels).reshape(n_items, n_labels)


NO_EVIDENCE_OF_CORRELATION = "no evidence of correlated errors (ICC <= 0)"
"""How a swarm whose errors are not positively correlated is described."""


def kish_effective_agents(n_agents: int, icc: np.ndarray) -> np.ndarray:
    """Kish's effective sample size for ``n_agents`` with intra-class correlation ``icc``:
    ``n / (1 + (n - 1) max(icc, 0))`` (Kish 1965, the design effect of a cluster).

    An ICC at or below 0 is no evidence of correlated errors, and ``n`` independent agents
    are the most a swarm of ``n`` can be worth: the result is then ``n``, never more (a
    negative ICC would give more than ``n``, or divide by zero at ``-1 / (n - 1)``). NaN
    where ``icc`` is NaN.
    """
    icc = np.asarray(icc, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        positive = np.where(np.isnan(icc), np.nan, np.maximum(icc, 0.0))
    return np.asarray(n_agents / (1.0 + (n_agents - 1) * positive))
