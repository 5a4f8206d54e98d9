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
- Page-Hinkley and ADWIN (river's parameters ``threshold`` and ``delta``): no chain fits
  their running means and windows, so `page_hinkley_threshold` and `adwin_delta` simulate
  many in-control streams at once (normal with a given mean and sd, or canary correctness
  with error rate p0), seeded. Before its first alarm neither statistic depends on the
  parameter, so each stream's run length is a step function of it, read off the records
  of its running maximum; the answer is the lowest parameter whose mean run length
  reaches the target. Monte Carlo error: the standard error of that mean, about
  target / sqrt(n_streams) (2.2 % at the default 2,000 streams), returned with it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

import numpy as np
from scipy import optimize, sparse, stats
from scipy import signal as scipy_signal
from scipy.sparse import linalg as sparse_linalg

from monoculture.errors import InputError

__all__ = [
    "Side",
    "SimulatedThreshold",
    "adwin_delta",
    "bernoulli_cusum_arl",
    "bernoulli_cusum_threshold",
    "cusum_arl",
    "cusum_threshold",
    "page_hinkley_threshold",
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
    target_arl = check_target_arl(target_arl, function)

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


# --- Page-Hinkley and ADWIN: thresholds by simulation -------------------------------------

InControl = tuple[str, float] | tuple[str, float, float]
"""An in-control distribution: ``("normal", mean, sd)`` or ``("bernoulli", p0)``."""

_SIMULATION_MAX_ARL = 100_000.0
_CELL_BUDGET = 3_000_000  # floats per array in one simulated chunk (~24 MB)


@dataclass(frozen=True)
class SimulatedThreshold:
    """A monitor's parameter set by simulating its in-control run lengths.

    Attributes:
        parameter: ``"threshold"`` (Page-Hinkley) or ``"delta"`` (ADWIN).
        value: the parameter's value.
        target_arl: the in-control ARL asked for.
        arl: mean run length of the simulated streams at ``value`` (the target, up to
            one stream's step).
        standard_error: Monte Carlo standard error of that mean, ``sd(T) / sqrt(n)``: the
            true in-control ARL at ``value`` is within about 2 of them of the target.
        n_streams: independent in-control streams simulated.
        seed: seed of the generator that drew them.
        in_control: the in-control distribution: ``("normal", mean, sd)`` or
            ``("bernoulli", p0)``, p0 the error rate (values 1 with probability 1 - p0).
    """

    parameter: Literal["threshold", "delta"]
    value: float
    target_arl: float
    arl: float
    standard_error: float
    n_streams: int
    seed: int
    in_control: InControl


def check_target_arl(target_arl: object, function: str, maximum: float = math.inf) -> float:
    if (
        isinstance(target_arl, bool)
        or not isinstance(target_arl, int | float)
        or not (math.isfinite(target_arl) and target_arl > 1)
    ):
        raise InputError(
            f"{function}: `target_arl` is the mean number of in-control decisions between "
            f"false alarms, so it must be a finite number > 1 (e.g. 1000); got {target_arl!r}."
        )
    if target_arl > maximum:
        raise InputError(
            f"{function}: `target_arl` = {target_arl:g} is above {maximum:,.0f}, where the "
            "simulation that sets the parameter grows slow; give the parameter explicitly."
        )
    return float(target_arl)


def in_control_distribution(
    *, mean: float | None, sd: float | None, p0: float | None, function: str
) -> InControl:
    """The in-control distribution given as ``mean`` and ``sd`` (normal) or ``p0``
    (canary correctness, p0 the error rate), checked; ``function`` names the caller in
    the errors."""
    if p0 is not None:
        if mean is not None or sd is not None:
            raise InputError(
                f"{function}: give the in-control distribution once: `mean` and `sd` for a "
                f"normal signal, or `p0` for canary correctness; got mean={mean!r}, "
                f"sd={sd!r}, p0={p0!r}."
            )
        if isinstance(p0, bool) or not isinstance(p0, int | float) or not 0 < p0 < 1:
            raise InputError(
                f"{function}: `p0`, the in-control error rate of the canaries (values 1 "
                f"right, 0 wrong), must be in (0, 1); got {p0!r}."
            )
        return ("bernoulli", float(p0))
    if mean is None or sd is None:
        raise InputError(
            f"{function}: the in-control distribution needs both `mean` and `sd` (normal "
            f"signal), or `p0` (canary correctness); got mean={mean!r}, sd={sd!r}."
        )
    if isinstance(mean, bool) or not isinstance(mean, int | float) or not math.isfinite(mean):
        raise InputError(f"{function}: `mean` must be a finite number; got {mean!r}.")
    if (
        isinstance(sd, bool)
        or not isinstance(sd, int | float)
        or not (math.isfinite(sd) and sd > 0)
    ):
        raise InputError(f"{function}: `sd` must be a number > 0; got {sd!r}.")
    return ("normal", float(mean), float(sd))


def _draw(
    in_control: InControl,
    rng: np.random.Generator,
    shape: tuple[int, int],
) -> np.ndarray:
    """In-control values, less their mean (both monitors ignore a shift of location)."""
    if in_control[0] == "bernoulli":
        p0 = in_control[1]
        return (rng.random(shape) >= p0) - (1.0 - p0)
    _, _, sd = cast(tuple[str, float, float], in_control)
    return rng.normal(0.0, sd, shape)


class _Streams(Protocol):
    """Many in-control streams run in step: ``advance`` simulates the next ``steps``
    values of the streams still kept and returns the times (run lengths, 1-based) at which
    an alarm can fire and, per stream and time, the statistic D: the monitor alarms at
    the first time with ``D > theta`` (theta = threshold, or -log delta for ADWIN). Before
    the first alarm D does not depend on theta, so the run length falls as theta falls."""

    def step_hint(self, n_streams: int) -> int: ...

    def advance(self, rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]: ...

    def keep(self, mask: np.ndarray) -> None: ...


class _PageHinkleyStreams:
    def __init__(
        self,
        n_streams: int,
        in_control: InControl,
        *,
        min_instances: int,
        delta: float,
        alpha: float,
        mode: str,
    ) -> None:
        self.in_control, self.min_instances = in_control, min_instances
        self.delta, self.alpha = delta, alpha
        self.up, self.down = mode in ("up", "both"), mode in ("down", "both")
        self.n = 0
        self.total = np.zeros(n_streams)
        self.s_inc = np.zeros(n_streams)
        self.s_dec = np.zeros(n_streams)
        self.min_inc = np.full(n_streams, np.inf)
        self.max_dec = np.full(n_streams, -np.inf)

    def step_hint(self, n_streams: int) -> int:
        return int(np.clip(_CELL_BUDGET // max(n_streams, 1), 256, 1 << 16))

    def advance(self, rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
        x = _draw(self.in_control, rng, (len(self.total), steps))
        count = self.n + np.arange(1, steps + 1, dtype=np.float64)
        # dev = x - running mean, in place (the arrays are large: allocations cost).
        dev = np.cumsum(x, axis=1)
        dev += self.total[:, None]
        self.total = dev[:, -1].copy()
        dev /= count
        np.subtract(x, dev, out=dev)
        fade = [1.0, -self.alpha]
        dev -= self.delta
        s_inc = scipy_signal.lfilter([1.0], fade, dev, axis=1, zi=self.alpha * self.s_inc[:, None])[
            0
        ]
        dev += 2.0 * self.delta
        s_dec = scipy_signal.lfilter([1.0], fade, dev, axis=1, zi=self.alpha * self.s_dec[:, None])[
            0
        ]
        min_inc = np.minimum.accumulate(s_inc, axis=1)
        np.minimum(min_inc, self.min_inc[:, None], out=min_inc)
        max_dec = np.maximum.accumulate(s_dec, axis=1)
        np.maximum(max_dec, self.max_dec[:, None], out=max_dec)
        self.n += steps
        self.s_inc, self.s_dec = s_inc[:, -1].copy(), s_dec[:, -1].copy()
        self.min_inc, self.max_dec = min_inc[:, -1].copy(), max_dec[:, -1].copy()
        if self.up:
            statistic = np.subtract(s_inc, min_inc, out=s_inc)
            if self.down:
                np.maximum(statistic, np.subtract(max_dec, s_dec, out=s_dec), out=statistic)
        else:
            statistic = np.subtract(max_dec, s_dec, out=s_dec)
        statistic[:, count < self.min_instances] = -np.inf
        return count.astype(np.int64), statistic

    def keep(self, mask: np.ndarray) -> None:
        self.total, self.s_inc, self.s_dec = self.total[mask], self.s_inc[mask], self.s_dec[mask]
        self.min_inc, self.max_dec = self.min_inc[mask], self.max_dec[mask]


class _AdwinStreams:
    """ADWIN before its first cut: no bucket is dropped, so the buckets' layout depends
    only on the number of values and is the same in every stream. Each bucket's total is a
    difference of prefix sums; the prefix sums at the current bucket ends are kept (the
    ends of later buckets are these or newer positions)."""

    def __init__(
        self,
        n_streams: int,
        in_control: InControl,
        *,
        clock: int,
        max_buckets: int,
        min_window_length: int,
        grace_period: int,
    ) -> None:
        self.in_control, self.clock, self.max_buckets = in_control, clock, max_buckets
        self.length, self.grace_period = float(min_window_length), grace_period
        self.t = 0
        self.counts = [0]  # buckets per row; row r holds 2^r values each
        self.kept_at = np.zeros(0, dtype=np.int64)  # positions of the kept prefix sums
        self.kept = np.zeros((n_streams, 0))
        self.sum = np.zeros(n_streams)
        self.sum_sq = np.zeros(n_streams)

    def _insert(self, k: int) -> None:
        counts, limit = self.counts, self.max_buckets
        for _ in range(k):
            counts[0] += 1
            row = 0
            while counts[row] > limit:
                counts[row] -= 2
                if row + 1 == len(counts):
                    counts.append(0)
                counts[row + 1] += 1
                row += 1

    def _bucket_ends(self) -> list[int]:
        """Positions (values from the start) where each bucket ends, oldest first."""
        ends, n = [], 0
        for row in range(len(self.counts) - 1, -1, -1):
            for _ in range(self.counts[row]):
                n += 1 << row
                ends.append(n)
        return ends

    def step_hint(self, n_streams: int) -> int:
        cuts = self.max_buckets * (2 + max(self.t, 2).bit_length())
        return self.clock * max(1, _CELL_BUDGET // (max(n_streams, 1) * cuts))

    def advance(self, rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
        steps = self.clock * max(1, -(-steps // self.clock))
        n_streams, start = len(self.sum), self.t
        x = _draw(self.in_control, rng, (n_streams, steps))
        prefix = np.cumsum(x, axis=1) + self.sum[:, None]
        prefix_sq = np.cumsum(x * x, axis=1) + self.sum_sq[:, None]
        times, cuts = [], []
        for j in range(1, steps // self.clock + 1):
            self._insert(self.clock)
            self.t = start + j * self.clock
            if self.t > self.grace_period:
                times.append(self.t)
                cuts.append(self._bucket_ends()[:-1])
        self.sum, self.sum_sq = prefix[:, -1].copy(), prefix_sq[:, -1].copy()
        # Prefix sums by position: the kept ones, then this chunk's.
        known = np.concatenate([self.kept, prefix], axis=1)
        known32 = known.astype(np.float32)

        kept_at = self.kept_at

        def column(position: np.ndarray) -> np.ndarray:
            old = np.minimum(np.searchsorted(kept_at, position), len(kept_at) - 1)
            return np.where(position <= start, old, len(kept_at) + position - start - 1)

        ends = np.asarray(self._bucket_ends(), dtype=np.int64)
        statistic = np.full((n_streams, len(times)), -np.inf)
        if times:
            width = max(len(c) for c in cuts)
            n0 = np.zeros((len(times), width))
            for i, c in enumerate(cuts):
                n0[i, : len(c)] = c
            t = np.asarray(times, dtype=np.float64)
            n1 = t[:, None] - n0
            valid = (n0 >= self.length) & (n1 >= self.length)
            n0, n1 = np.where(valid, n0, self.length), np.where(valid, n1, self.length)
            m = 1.0 / (n0 - self.length + 1.0) + 1.0 / (n1 - self.length + 1.0)
            # mean W0 - mean W1 = S(n0) (1/n0 + 1/n1) - S(t) / n1; 0 on cuts not tested.
            per_older = np.where(valid, 1.0 / n0 + 1.0 / n1, 0.0).astype(np.float32)
            per_total = np.where(valid, 1.0 / n1, 0.0).astype(np.float32)
            m = m.astype(np.float32)
            at_t = known[:, column(np.asarray(times, dtype=np.int64))]  # (streams, checks)
            sq_t = prefix_sq[:, np.asarray(times) - start - 1]
            variance = (np.maximum(sq_t - at_t * at_t / t, 0.0) / t).astype(np.float32)
            at_t = at_t.astype(np.float32)
            gap = known32[:, column(n0.astype(np.int64))]  # (streams, checks, cuts)
            gap *= per_older
            gap -= at_t[:, :, None] * per_total
            np.abs(gap, out=gap)
            # |gap| > sqrt(2 m v d') + 2/3 m d'  <=>  d' < s^2, s the positive root of
            # (2m/3) s^2 + sqrt(2 m v) s - |gap| = 0, s = 2 |gap| / (b + sqrt(b^2 + 8/3 m
            # |gap|)), b = sqrt(2 m v) (this form does not cancel).
            b2 = (2.0 * m) * variance[:, :, None]
            denominator = ((8.0 / 3.0) * m) * gap
            denominator += b2
            np.sqrt(denominator, out=denominator)
            denominator += np.sqrt(b2, out=b2)
            np.maximum(denominator, np.finfo(np.float32).tiny, out=denominator)
            gap /= denominator
            critical = 4.0 * np.square(gap.max(axis=2))
            # d' = log(2 log W / delta) = log(2 log W) + theta: alarm iff theta < D. A check
            # with no cut to test gets D < 0, below every theta allowed (delta < 1).
            statistic = critical - np.log(2.0 * np.log(np.maximum(t, 2.0)))
        self.kept_at = ends
        self.kept = known[:, column(ends)]
        return np.asarray(times, dtype=np.int64), statistic

    def keep(self, mask: np.ndarray) -> None:
        self.kept, self.sum, self.sum_sq = self.kept[mask], self.sum[mask], self.sum_sq[mask]


@dataclass
class _Records:
    """Each stream's running maximum of D at every time it rises (its records): the run
    length at theta is the time of the first record above theta."""

    n_streams: int
    stream: list[np.ndarray] = field(default_factory=list)
    time: list[np.ndarray] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)

    def add(self, streams: np.ndarray, times: np.ndarray, running: np.ndarray) -> None:
        """``running``: (streams, 1 + times), the previous maximum then the new ones."""
        rows, cols = np.nonzero(running[:, 1:] > running[:, :-1])
        self.stream.append(streams[rows])
        self.time.append(times[cols])
        self.value.append(running[rows, cols + 1])

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Records grouped by stream (in time order within one): stream, time, value,
        first row of each stream, records of each stream."""
        stream = np.concatenate(self.stream)
        order = np.argsort(stream, kind="stable")
        stream, time = stream[order], np.concatenate(self.time)[order]
        value = np.concatenate(self.value)[order]
        held = np.bincount(stream, minlength=self.n_streams)
        return stream, time, value, np.cumsum(held) - held, held


def _run_lengths(
    theta: float,
    records: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    censored_at: float,
) -> np.ndarray:
    stream, time, value, first, held = records
    below = np.bincount(stream[value <= theta], minlength=len(held))
    runs = np.full(len(held), float(censored_at))
    hit = below < held
    runs[hit] = time[first[hit] + below[hit]]
    return runs


def _lowest_reaching(
    records: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    target_arl: float,
    censored_at: float,
) -> float:
    """The lowest theta among the records' values whose mean run length (censored at
    ``censored_at``) reaches the target; +inf if none does."""
    candidates = np.unique(records[2])
    low, high = 0, len(candidates)  # the answer's index lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if _run_lengths(candidates[middle], records, censored_at).mean() >= target_arl:
            high = middle
        else:
            low = middle + 1
    return float(candidates[low]) if low < len(candidates) else math.inf


def _simulate_threshold(
    streams: _Streams, target_arl: float, n_streams: int, seed: int
) -> tuple[float, np.ndarray]:
    """The lowest theta whose mean simulated in-control run length reaches the target,
    and the run lengths there (if that theta is <= 0, the run lengths at 0, censored: the
    shortest the monitor allows, or more).

    The streams run in chunks; once they are longer than the target, theta_high, the
    lowest theta whose censored mean run length reaches the target, bounds the answer
    from above (censoring only shortens runs), and a stream whose maximum of D exceeds it
    has already shown its run length at every theta below: it stops. The rest run on until
    none is left, so the run lengths used are not censored."""
    rng = np.random.default_rng(seed)
    active = np.arange(n_streams)
    best = np.full(n_streams, -np.inf)
    records = _Records(n_streams)
    elapsed, theta_high, next_bound = 0, math.inf, target_arl
    limit = 1000.0 * target_arl
    while len(active) and elapsed < limit:
        times, statistic = streams.advance(rng, streams.step_hint(len(active)))
        elapsed = int(times[-1]) if len(times) else elapsed + statistic.shape[1]
        if len(times):
            running = np.maximum.accumulate(
                np.concatenate([best[active][:, None], statistic], axis=1), axis=1
            )
            records.add(active, times, running)
            best[active] = running[:, -1]
        if elapsed >= next_bound:
            # Recomputed as the censoring point grows by a quarter: often enough to stop
            # most streams early, rarely enough to cost little.
            next_bound = 1.25 * elapsed
            theta_high = min(theta_high, _lowest_reaching(records.table(), target_arl, elapsed))
            if theta_high <= 0.0:
                # Every allowed theta is > 0 (threshold > 0, delta < 1): no point going on.
                break
            still = best[active] <= theta_high
            active = active[still]
            streams.keep(still)
    table = records.table()
    theta = _lowest_reaching(table, target_arl, elapsed)
    if theta <= 0.0:
        return theta, _run_lengths(0.0, table, elapsed)
    return theta, _run_lengths(theta, table, elapsed)


def _result(
    parameter: Literal["threshold", "delta"],
    theta: float,
    runs: np.ndarray,
    target_arl: float,
    n_streams: int,
    seed: int,
    in_control: InControl,
    function: str,
    shortest: str,
) -> SimulatedThreshold:
    arl = float(runs.mean())
    standard_error = float(runs.std(ddof=1) / math.sqrt(len(runs)))
    if not theta > 0 or arl > target_arl + 4.0 * standard_error + 1.0:
        allowed = "threshold > 0" if parameter == "threshold" else "delta < 1"
        raise InputError(
            f"{function}: no {parameter} gives an in-control ARL as low as {target_arl:g}; "
            f"the lowest with {allowed} is about {arl:,.0f} or more ({shortest}); choose a "
            f"larger `target_arl` or give the {parameter} explicitly."
        )
    value = theta if parameter == "threshold" else math.exp(-theta)
    return SimulatedThreshold(
        parameter=parameter,
        value=value,
        target_arl=target_arl,
        arl=arl,
        standard_error=standard_error,
        n_streams=n_streams,
        seed=seed,
        in_control=in_control,
    )


def _check_simulation(n_streams: object, seed: object, function: str) -> None:
    if isinstance(n_streams, bool) or not isinstance(n_streams, int) or n_streams < 100:
        raise InputError(f"{function}: `n_streams` must be an integer >= 100; got {n_streams!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"{function}: `seed` must be an integer >= 0; got {seed!r}.")


def page_hinkley_threshold(
    target_arl: float,
    *,
    mean: float | None = None,
    sd: float | None = None,
    p0: float | None = None,
    min_instances: int = 30,
    delta: float = 0.005,
    alpha: float = 1 - 0.0001,
    mode: Literal["up", "down", "both"] = "both",
    n_streams: int = 2000,
    seed: int = 0,
) -> SimulatedThreshold:
    """The Page-Hinkley ``threshold`` whose in-control ARL is ``target_arl``, by
    simulation: ``n_streams`` independent in-control streams, normal with ``mean`` and
    ``sd`` or canary correctness with error rate ``p0`` (1 right, 0 wrong), run together
    (vectorised over streams) until each has shown its first alarm at every threshold up
    to the answer; the answer is the lowest threshold whose mean run length reaches the
    target. Cached per arguments.

    Monte Carlo error: the mean of ``n_streams`` run lengths, whose sd is about the ARL
    (they are close to geometric), so the true in-control ARL at the threshold is the
    target within about ``target_arl / sqrt(n_streams)`` (2.2 % at 2,000 streams);
    ``standard_error`` gives it.

    Example:
        >>> found = page_hinkley_threshold(500, mean=0.0, sd=1.0, n_streams=500)
        >>> round(found.arl / 500, 1), found.parameter
        (1.0, 'threshold')
    """
    function = "page_hinkley_threshold"
    target = check_target_arl(target_arl, function, _SIMULATION_MAX_ARL)
    in_control = in_control_distribution(mean=mean, sd=sd, p0=p0, function=function)
    _check_simulation(n_streams, seed, function)
    if mode not in ("up", "down", "both"):
        raise InputError(f"{function}: `mode` must be 'up', 'down' or 'both'; got {mode!r}.")
    return _page_hinkley_cached(
        target, in_control, int(min_instances), float(delta), float(alpha), mode, n_streams, seed
    )


@functools.lru_cache(maxsize=256)
def _page_hinkley_cached(
    target_arl: float,
    in_control: InControl,
    min_instances: int,
    delta: float,
    alpha: float,
    mode: str,
    n_streams: int,
    seed: int,
) -> SimulatedThreshold:
    streams = _PageHinkleyStreams(
        n_streams, in_control, min_instances=min_instances, delta=delta, alpha=alpha, mode=mode
    )
    theta, runs = _simulate_threshold(streams, target_arl, n_streams, seed)
    return _result(
        "threshold",
        theta,
        runs,
        target_arl,
        n_streams,
        seed,
        in_control,
        "page_hinkley_threshold",
        f"no alarm comes before min_instances = {min_instances} values",
    )


def adwin_delta(
    target_arl: float,
    *,
    mean: float | None = None,
    sd: float | None = None,
    p0: float | None = None,
    clock: int = 32,
    max_buckets: int = 5,
    min_window_length: int = 5,
    grace_period: int = 10,
    n_streams: int = 2000,
    seed: int = 0,
) -> SimulatedThreshold:
    """ADWIN's ``delta`` whose in-control ARL is ``target_arl``, by simulation as in
    `page_hinkley_threshold` (the same Monte Carlo error). Before its first cut ADWIN
    drops no bucket, so every stream has the same bucket layout and the cut tests of all
    streams and checks run at once; the smallest delta at which a check cuts follows from
    the test in closed form. ADWIN's bound assumes values in [0, 1]: on another scale
    delta no longer reads as a probability, which is why it is set here from the ARL.

    Example:
        >>> found = adwin_delta(5000, p0=0.2, n_streams=300)
        >>> found.parameter, 0 < found.value < 1, round(found.arl / 5000, 1)
        ('delta', True, 1.0)
    """
    function = "adwin_delta"
    target = check_target_arl(target_arl, function, _SIMULATION_MAX_ARL)
    in_control = in_control_distribution(mean=mean, sd=sd, p0=p0, function=function)
    _check_simulation(n_streams, seed, function)
    return _adwin_cached(
        target,
        in_control,
        int(clock),
        int(max_buckets),
        int(min_window_length),
        int(grace_period),
        n_streams,
        seed,
    )


@functools.lru_cache(maxsize=256)
def _adwin_cached(
    target_arl: float,
    in_control: InControl,
    clock: int,
    max_buckets: int,
    min_window_length: int,
    grace_period: int,
    n_streams: int,
    seed: int,
) -> SimulatedThreshold:
    streams = _AdwinStreams(
        n_streams,
        in_control,
        clock=clock,
        max_buckets=max_buckets,
        min_window_length=min_window_length,
        grace_period=grace_period,
    )
    theta, runs = _simulate_threshold(streams, target_arl, n_streams, seed)
    return _result(
        "delta",
        theta,
        runs,
        target_arl,
        n_streams,
        seed,
        in_control,
        "adwin_delta",
        f"ADWIN first tests for a change after grace_period = {grace_period} values and "
        f"then every clock = {clock}",
    )
