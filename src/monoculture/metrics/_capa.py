"""CAPA: chance-adjusted probabilistic agreement (Goel et al., 2025, arXiv:2502.04313).

For a pair on its shared items ``D`` (both scored, both with an answer or probabilities,
gold known), with ``p_k(o|x)`` the probability agent k puts on option o:

    c_obs = 1/|D| sum_x sum_o p_i(o|x) p_j(o|x)
    p̂_k   = 1/|D| sum_x p_k(gold_x|x)
    c_exp = p̂_i p̂_j + (1/|D| sum_x 1/(K_x - 1)) (1 - p̂_i)(1 - p̂_j)
    CAPA  = (c_obs - c_exp) / (1 - c_exp)

The discrete form uses one-hot answers: ``c_obs`` is the rate of identical answers and
``p̂_k`` the accuracy. Values equal the reference implementation ``lmsim.metrics.CAPA``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from monoculture.errors import InputError
from monoculture.metrics._arrays import agent_frame, safe_divide
from monoculture.metrics._products import cross_counts, one_hot_counts
from monoculture.metrics._validate import check_choice, check_responses, prepare, require_answers
from monoculture.responses import Responses

__all__ = ["capa"]

CapaForm = Literal["auto", "probabilistic", "discrete"]


def _gram(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    # float64 throughout: these sums hold probabilities, not counts.
    return np.asarray(left, dtype=np.float64).T @ np.asarray(right, dtype=np.float64)


def capa(
    responses: Responses, *, form: CapaForm = "auto", complete_only: bool = False
) -> pd.DataFrame:
    """CAPA (kappa_p) for every pair of agents, as an ``(n_agents, n_agents)`` DataFrame.

    Args:
        form: ``"probabilistic"`` needs ``responses.probs``; ``"discrete"`` uses the
            answers; ``"auto"`` picks probabilistic when probabilities exist.
        complete_only: use only items every agent was scored on.

    Example:
        >>> from monoculture import Responses
        >>> r = Responses.from_arrays(
        ...     answers=[[0, 0], [1, 1], [2, 0], [1, 1]], gold=[0, 0, 0, 1], labels="ABC"
        ... )
        >>> round(float(capa(r).iloc[0, 1]), 4)  # (3/4 - 7/16) / (1 - 7/16), as lm-sim gives
        0.5556
    """
    responses = check_responses(responses, "capa")
    check_choice(form, "form", "capa", ("auto", "probabilistic", "discrete"))
    responses = prepare(responses, "capa", complete_only=complete_only)
    if responses.gold is None:
        raise InputError("capa: needs gold answers (a gold column or `gold=`).")
    probabilistic = form == "probabilistic" or (form == "auto" and responses.probs is not None)
    if probabilistic and responses.probs is None:
        raise InputError("capa: form='probabilistic' needs probabilities (`probs`).")
    counts = responses.option_counts()
    if counts is None:
        raise InputError(
            f"capa: the number of options per item is unknown ({responses.input_summary.source} "
            f"has {len(responses.labels)} answer label(s) and no probabilities); give an "
            "`n_options` item attribute, e.g. an items table with that column (`--items "
            "FILE` on the command line)."
        )
    gold = responses.gold.astype(np.int64)
    known_gold = gold >= 0
    if responses.probs is not None and probabilistic:
        probs = responses.probs
        usable = responses.observed & np.isfinite(probs).all(axis=2) & known_gold[:, None]
        cube = np.where(usable[:, :, None], probs, 0.0)
        # (n_items, A, K) -> (n_items * K, A): one product sums over items and options.
        flat = np.ascontiguousarray(cube.transpose(0, 2, 1)).reshape(-1, cube.shape[1])
        agreement = _gram(flat, flat)
        on_gold = np.take_along_axis(cube, np.maximum(gold, 0)[:, None, None], axis=2)[:, :, 0]
    else:
        answers = require_answers(responses, "capa")
        usable = responses.observed & (answers >= 0) & known_gold[:, None]
        codes = np.where(usable, answers, -1)
        agreement = one_hot_counts(codes, max(1, len(responses.labels)))
        on_gold = (codes == gold[:, None]) & usable
    shared = cross_counts(usable)
    p_i = safe_divide(_gram(on_gold, usable), shared)
    p_j = p_i.T
    inverse_wrong = np.where(counts > 1, 1.0 / np.maximum(counts - 1, 1), np.nan)
    frac = safe_divide(_gram(usable * inverse_wrong[:, None], usable), shared)
    observed = safe_divide(agreement, shared)
    expected = p_i * p_j + frac * (1.0 - p_i) * (1.0 - p_j)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(expected < 1.0, (observed - expected) / (1.0 - expected), np.nan)
    return agent_frame(kappa, responses, "capa")
