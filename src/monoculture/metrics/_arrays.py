"""Small array helpers every metric module shares."""

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


def agent_frame(matrix: np.ndarray, responses: Responses, metric: str = "") -> pd.DataFrame:
    """An agent x agent matrix as a DataFrame; warns when ``metric`` has undefined cells."""
    if metric:
        warn_undefined(matrix, metric)
    names = pd.Index(responses.agents, name="agent")
    return pd.DataFrame(matrix, index=names, columns=names.rename("other"))
