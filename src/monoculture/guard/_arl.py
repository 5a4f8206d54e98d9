"""Average run lengths (ARL) of CUSUM charts, and thresholds set from a target in-control
ARL instead of by hand.

The run length is the number of observations up to and including the first alarm; the
in-control ARL is its mean when nothing has changed (the mean time between false alarms,
since the monitors restart after each alarm).

- Normal-data CUSUM (Page 1954): ``S_t = max(0, S_{t-1} + z_t - k)``, alarm when ``S_t >
  h``, ``z`` standardised. Its ARL comes from the Markov-chain approximation of Brook &
  Evans (1972, Biometrika 59(3):539-549, doi:10.1093/biomet/59.3.539): [0, h] is cut into
  m cells of width ``w = 2h / (2m - 1)``, cell 0 holding the atom at 0, and the ARL from 0
  is the first entry of ``(I - R)^-1 1``, R the transitions among the cells. A two-sided
  chart combines its sides as ``1/ARL = 1/ARL+ + 1/ARL-`` (Lucas & Crosier 1982).
  Known values: k = 0.5, h = 5: 465 in control, 10.4 after a 1-sigma shift.
- Bernoulli CUSUM (Reynolds & Stoumbos 1999, JQT 31(1):87-108): the log-likelihood-ratio
  increments of an error rate p1 against p0, on a lattice fine enough (``n_states``) that
  the rounding is negligible; the chain on the lattice is then solved exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy import optimize, sparse, stats
from scipy.sparse import linalg as sparse_linalg

from monoculture.errors import InputError

__all__ = [
    "Side",
    "bernoulli_cusum_arl",
    "bernoulli_cusum_threshold",
    "cusum_arl",
    "cusum_threshold",
]

Side = Literal["both", "upper", "lower"]
_H_RANGE = (1e-3, 200.0)


def _one_sided_arl(h: float, k: float, shift: float, n_states: int) -> float:
    """Brook-Evans ARL from 0 of ``max(0, S + z - k)`` with ``z ~ N(shift, 1)``."""
    w = 2.0 * h / (2 * n_states - 1)
    centre = np.arange(n_states) * w
    upper = (np.arange(n_states) + 0.5) * w  # upper edge of each cell
    # R[i, j] = P(cell j | start at centre i): S' = centre_i + z - k falls in cell j.
    edges = upper[None, :] - centre[:, None] + k - shift
    cdf = stats.norm.cdf(edges)
    transitions = np.diff(np.concatenate([np.zeros((n_states, 1)), cdf], axis=1), axis=1)
    run = np.linalg.solve(np.eye(n_states) - transitions, np.ones(n_states))
    return float(run[0])


def _check_side(side: object, function: str) -> None:
    if side not in ("both", "upper", "lower"):
        raise InputError(f"{function}: `side` must be 'both', 'upper' or 'lower'; got {side!r}.")


def cusum_arl(
    h: float, *, k: float = 0.5, shift: float = 0.0, side: Side = "both", n_states: int = 300
) -> float:
    """ARL of a CUSUM on standardised normal data shifted by ``shift`` sd (Brook-Evans).

    Example:
        >>> round(cusum_arl(5.0, k=0.5), 0), round(cusum_arl(5.0, k=0.5, shift=1.0), 1)
        (465.0, 10.4)
    """
    _check_side(side, "cusum_arl")
    if not (isinstance(h, int | float) and h > 0 and isinstance(k, int | float) and k >= 0):
        raise InputError(f"cusum_arl: `h` must be > 0 and `k` >= 0; got h={h!r}, k={k!r}.")
    if side == "upper":
        return _one_sided_arl(h, k, shift, n_states)
    if side == "lower":
        return _one_sided_arl(h, k, -shift, n_states)
    up = _one_sided_arl(h, k, shift, n_states)
    down = _one_sided_arl(h, k, -shift, n_states)
    return 1.0 / (1.0 / up + 1.0 / down)


def _solve_threshold(arl_of: Callable[[float], float], target_arl: float, function: str) -> float:
    if not (isinstance(target_arl, int | float) and math.isfinite(target_arl) and target_arl > 1):
        raise InputError(
            f"{function}: `target_arl` is the mean number of in-control decisions between "
            f"false alarms, so it must be a number > 1 (e.g. 1000); got {target_arl!r}."
        )

    def gap(h: float) -> float:
        return math.log(arl_of(h)) - math.log(target_arl)

    low, high = _H_RANGE
    if gap(low) > 0:
        return low
    bracket = 1.0
    while gap(bracket) < 0:
        bracket *= 2.0
        if bracket > high:
            raise InputError(
                f"{function}: a target in-control ARL of {target_arl:g} needs a threshold "
                f"above {high:g}; choose a smaller target."
            )
    return float(optimize.brentq(gap, low, bracket, xtol=1e-10, rtol=1e-12))


def cusum_threshold(
    target_arl: float, *, k: float = 0.5, side: Side = "both", n_states: int = 300
) -> float:
    """The h whose in-control ARL (normal data, Brook-Evans) equals ``target_arl``.

    Example:
        >>> round(cusum_threshold(465.0, k=0.5), 2)
        5.0
    """
    _check_side(side, "cusum_threshold")
    return _solve_threshold(
        lambda h: cusum_arl(h, k=k, side=side, n_states=n_states), target_arl, "cusum_threshold"
    )


def _check_rates(p0: float, p1: float, function: str) -> None:
    if not (0 < p0 < 1 and 0 < p1 < 1 and p1 > p0):
        raise InputError(
            f"{function}: the in-control error rate `p0` and the rate to detect `p1` must "
            f"satisfy 0 < p0 < p1 < 1; got p0={p0!r}, p1={p1!r}."
        )


def bernoulli_cusum_arl(
    h: float, *, p0: float, p1: float, p: float | None = None, resolution: int = 200
) -> float:
    """ARL of the Bernoulli CUSUM for errors at rate ``p`` (default ``p0``: in control).

    Increments: ``log(p1/p0)`` on an error, ``log((1-p1)/(1-p0))`` otherwise; alarm when
    the statistic exceeds h. Solved exactly on a lattice whose step is the smaller increment
    over ``resolution`` (the rounding of the increments is then negligible).

    Example:
        >>> round(bernoulli_cusum_arl(2.0, p0=0.1, p1=0.2))
        185
    """
    _check_rates(p0, p1, "bernoulli_cusum_arl")
    rate = p0 if p is None else p
    if not 0 <= rate <= 1:
        raise InputError(f"bernoulli_cusum_arl: `p` must be in [0, 1]; got {p!r}.")
    if not (isinstance(h, int | float) and h > 0):
        raise InputError(f"bernoulli_cusum_arl: `h` must be a number > 0; got {h!r}.")
    w_error, w_right = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    step = min(w_error, -w_right) / resolution
    n_states = int(h // step)
    up, down = round(w_error / step), round(w_right / step)
    states = np.arange(n_states + 1)  # S = i * step; alarm when i > n_states
    after_error = states + up
    after_right = np.maximum(states + down, 0)
    rows, cols, vals = [], [], []
    for target, chance in ((after_error, rate), (after_right, 1.0 - rate)):
        inside = target <= n_states
        rows.append(states[inside])
        cols.append(target[inside])
        vals.append(np.full(int(inside.sum()), chance))
    transitions = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_states + 1, n_states + 1),
    )
    system = sparse.identity(n_states + 1, format="csr") - transitions
    run = sparse_linalg.spsolve(system.tocsc(), np.ones(n_states + 1))
    return float(run[0])


def bernoulli_cusum_threshold(
    target_arl: float, *, p0: float, p1: float, resolution: int = 200
) -> float:
    """The h whose in-control ARL (errors at rate p0) equals ``target_arl``.

    Example:
        >>> h = bernoulli_cusum_threshold(500, p0=0.1, p1=0.2)
        >>> round(bernoulli_cusum_arl(h, p0=0.1, p1=0.2) / 500, 1)
        1.0
    """
    _check_rates(p0, p1, "bernoulli_cusum_threshold")
    return _solve_threshold(
        lambda h: bernoulli_cusum_arl(h, p0=p0, p1=p1, resolution=resolution),
        target_arl,
        "bernoulli_cusum_threshold",
    )
