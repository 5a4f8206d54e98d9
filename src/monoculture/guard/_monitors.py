"""Monitors for a stream of swarm decisions: each takes one value per decision and says
whether to sound an alarm.

Every monitor has ``update(x) -> bool`` (one decision), ``update_many(xs) -> alarms`` (a
batch, vectorised where the algorithm allows; it gives exactly the alarms and the state of
calling ``update`` on each value in turn), ``to_dict`` / ``from_dict`` (JSON-ready state:
restoring mid-stream continues exactly as an uninterrupted run) and ``reset``. NaN values
(e.g. decisions that are not canaries, for a canary monitor) are skipped. After an alarm a
monitor restarts from its initial state, so the mean gap between false alarms is the
in-control average run length (ARL).

- `Cusum`: two-sided (or one-sided) CUSUM with a fixed reference (Page 1954):
  ``S+ = max(0, S+ + z - k)``, ``S- = max(0, S- - z - k)``, ``z = (x - mean) / sd``; alarm
  when either exceeds h, h set from a target in-control ARL (`cusum_threshold`).
- `BernoulliCusum`: on canary correctness (1 right, 0 wrong), the log-likelihood-ratio
  CUSUM of an error rate p1 against p0 (Reynolds & Stoumbos 1999).
- `SynchronisationAlarm`: a one-sided CUSUM on the agreement of the swarm's plurality
  (upwards) or on its answer entropy (downwards): the swarm voting ever more as one.
- `PageHinkley`: the Page-Hinkley test with a fading factor, as in river
  (``river.drift.PageHinkley``).
- `Adwin`: ADWIN2 adaptive windowing (Bifet & Gavalda 2007, doi:10.1137/1.9781611972771.42),
  as in river (``river.drift.ADWIN``): same parameters, same alarms.
- `CanaryMixer`: decides which decisions of a stream are canaries (items with known
  answers) at a set rate, reproducibly.

The CUSUM statistics are kept as ``C - min(0, min C)``, C the running sum of increments
since the last restart: the batch path is then a cumulative sum and a running minimum in
numpy that rounds exactly as the one-at-a-time path.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from math import isqrt
from typing import Any, ClassVar, Literal, cast

import numpy as np
import pandas as pd
from scipy import signal as scipy_signal

from monoculture.errors import InputError, SchemaError
from monoculture.guard._arl import (
    InControl,
    Side,
    SimulatedThreshold,
    adwin_delta,
    bernoulli_cusum_threshold,
    check_target_arl,
    cusum_threshold,
    in_control_distribution,
    page_hinkley_threshold,
)

__all__ = [
    "MONITORS",
    "Adwin",
    "BernoulliCusum",
    "CanaryMixer",
    "Cusum",
    "Monitor",
    "PageHinkley",
    "SynchronisationAlarm",
    "alarm_run_lengths",
    "monitor_from_dict",
]

_DEFAULT_TARGET_ARL = 1000.0
# ADWIN cannot alarm often in control: even at delta -> 1 its ARL is in the thousands on
# canary streams (about 2,500 at p0 = 0.2, 8,500 at p0 = 0.02), so its default is higher.
_ADWIN_DEFAULT_TARGET_ARL = 10_000.0
_RIVER_PH_THRESHOLD = 50.0
_RIVER_ADWIN_DELTA = 0.002
_FIRST_WINDOW = 256
_MAX_WINDOW = 1 << 16
_MIN_WINDOW = 32
_SIZES = [float(1 << row) for row in range(64)]  # values per ADWIN bucket, by row
_ADWIN_MAX_BLOCK = 1 << 14
_ADWIN_MIN_BLOCK = 256
_ADWIN_OVERHEAD = 200


def _positive(value: object, name: str, owner: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise InputError(f"{owner}: `{name}` must be a number > 0; got {value!r}.")
    return float(value)


def _level(value: object, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise InputError(f"{owner}: `{name}` must be a number in (0, 1); got {value!r}.")
    return float(value)


def _count(value: object, name: str, owner: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{owner}: `{name}` must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _in_control_fields(
    in_control: InControl | None,
) -> tuple[float | None, float | None, float | None]:
    """``(mean, sd, p0)`` of an in-control distribution (None where it has none)."""
    if in_control is None:
        return None, None, None
    if in_control[0] == "bernoulli":
        return None, None, in_control[1]
    _, mean, sd = cast(tuple[str, float, float], in_control)
    return mean, sd, None


def _arl_route(
    owner: str,
    parameter: str,
    given: object,
    target_arl: object,
    mean: float | None,
    sd: float | None,
    p0: float | None,
) -> tuple[InControl | None, float | None]:
    """How a monitor with a river parameter sets it: ``(in_control, target)``; ``target``
    is the in-control ARL to simulate for, or None when the parameter is given (or, with
    no in-control distribution, river's default applies)."""
    known = not (mean is None and sd is None and p0 is None)
    in_control = in_control_distribution(mean=mean, sd=sd, p0=p0, function=owner) if known else None
    target = None if target_arl is None else check_target_arl(target_arl, owner)
    if given is not None:
        return in_control, None
    if in_control is None and target is not None:
        raise InputError(
            f"{owner}: `target_arl` needs the signal's in-control distribution to simulate: "
            f"give `mean` and `sd` (a normal signal) or `p0` (canary correctness, p0 the "
            f"error rate), or set `{parameter}` yourself instead of `target_arl`."
        )
    return in_control, target


class Monitor(ABC):
    """A stream monitor: ``update(x) -> alarm``; see the module docstring."""

    kind: ClassVar[str]

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The settings that, with the state, rebuild the monitor."""

    @abstractmethod
    def _state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None: ...

    @abstractmethod
    def reset(self) -> None:
        """Back to the initial state (done after every alarm)."""

    @abstractmethod
    def _step(self, x: float) -> bool: ...

    def _check_values(self, x: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Refuse values the monitor cannot take (finite values only reach it)."""

    def _check_value(self, x: float) -> None:  # noqa: B027 - optional hook
        """`_check_values` for one value, without numpy's overhead."""

    def update(self, x: float) -> bool:
        """Take one decision's value; True when the monitor sounds an alarm (it then
        restarts). A NaN is skipped (returns False, state unchanged)."""
        value = float(x)
        if not math.isfinite(value):
            return False
        self._check_value(value)
        return self._step(value)

    def update_many(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Take many decisions in order; ``(n,)`` bool, True where an alarm fires. The
        same alarms and final state as calling `update` on each value in turn."""
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = np.isfinite(x)
        kept = x if finite.all() else x[finite]
        self._check_values(kept)
        hits = self._alarm_positions(kept)
        out = np.zeros(len(x), dtype=bool)
        where = hits if finite.all() else np.flatnonzero(finite)[hits]
        out[where] = True
        return out

    def _alarm_positions(self, x: np.ndarray) -> np.ndarray:
        """Positions of the alarms in ``x`` (all finite); one value at a time by default."""
        step = self._step
        return np.flatnonzero([step(float(v)) for v in x])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"kind", "version", "params", "state"}``."""
        return {"kind": self.kind, "version": 1, "params": self.params(), "state": self._state()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Monitor:
        """Rebuild a monitor saved by `to_dict`, state included."""
        if data.get("kind") != cls.kind or data.get("version") != 1:
            raise SchemaError(
                f"{cls.__name__}.from_dict: expected kind {cls.kind!r} version 1; got kind "
                f"{data.get('kind')!r} version {data.get('version')!r}."
            )
        monitor = cls(**data["params"])
        monitor._set_state(dict(data["state"]))
        return monitor

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({shown})"


class _Scanner(Monitor):
    """A monitor whose batch path is vectorised: ``_scan`` processes a window from the
    current state and stops at its first alarm."""

    @abstractmethod
    def _scan(self, x: np.ndarray) -> int:
        """Process ``x`` from the current state. Return the index of the first alarm (the
        state is then reset) or -1 (the state is that after the last value)."""

    def _alarm_positions(self, x: np.ndarray) -> np.ndarray:
        alarms: list[int] = []
        start, window, n = 0, _FIRST_WINDOW, len(x)
        while start < n:
            chunk = x[start : start + window]
            hit = self._scan(chunk)
            if hit < 0:
                start += len(chunk)
                window = min(window * 2, _MAX_WINDOW)
            else:
                alarms.append(start + hit)
                start += hit + 1
                # Alarms come about once per run length: size the next window to it.
                window = max(_MIN_WINDOW, 2 * (hit + 1))
        return np.asarray(alarms, dtype=np.int64)


def _running(start_sum: float, start_min: float, increments: np.ndarray) -> tuple[np.ndarray, ...]:
    """Running sum C and running minimum M (both from the saved state) of ``increments``;
    the CUSUM statistic is ``C - M``. np.cumsum adds in sequence, as `update` does."""
    total = np.cumsum(np.concatenate(([start_sum], increments)))[1:]
    low = np.minimum.accumulate(np.concatenate(([start_min], total)))[1:]
    return total, low


class Cusum(_Scanner):
    """CUSUM with a fixed reference ``mean`` and ``sd`` (Page 1954; Montgomery,
    *Introduction to Statistical Quality Control*, ch. 9).

    Args:
        mean, sd: the in-control mean and standard deviation of the signal.
        k: reference value in sd units (half the shift to detect fastest).
        h: decision interval in sd units; by default set from ``target_arl``.
        target_arl: in-control ARL that sets h (Brook-Evans, normal data).
        side: ``both`` (two-sided), ``upper`` (increases) or ``lower`` (decreases).

    Example:
        >>> monitor = Cusum(mean=0.0, sd=1.0, k=0.5, h=5.0)
        >>> monitor.update_many([0.0] * 5 + [3.0] * 3).nonzero()[0].tolist()
        [7]
    """

    kind: ClassVar[str] = "cusum"

    def __init__(
        self,
        *,
        mean: float = 0.0,
        sd: float = 1.0,
        k: float = 0.5,
        h: float | None = None,
        target_arl: float | None = 1000.0,
        side: Side = "both",
    ) -> None:
        owner = type(self).__name__
        if not (isinstance(mean, int | float) and math.isfinite(mean)):
            raise InputError(f"{owner}: `mean` must be a finite number; got {mean!r}.")
        self.mean = float(mean)
        self.sd = _positive(sd, "sd", owner)
        if isinstance(k, bool) or not isinstance(k, int | float) or not k >= 0:
            raise InputError(f"{owner}: `k` must be a number >= 0; got {k!r}.")
        self.k = float(k)
        if side not in ("both", "upper", "lower"):
            raise InputError(f"{owner}: `side` must be 'both', 'upper' or 'lower'; got {side!r}.")
        self.side: Side = side
        if h is None:
            if target_arl is None:
                raise InputError(f"{owner}: give `h` or `target_arl` (e.g. 1000).")
            h = cusum_threshold(target_arl, k=self.k, side=side)
        self.h = _positive(h, "h", owner)
        self.target_arl = None if target_arl is None else float(target_arl)
        self._upper = side in ("both", "upper")
        self._lower = side in ("both", "lower")
        self.reset()

    def params(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "sd": self.sd,
            "k": self.k,
            "h": self.h,
            "target_arl": self.target_arl,
            "side": self.side,
        }

    def reset(self) -> None:
        self._cu = self._mu = self._cl = self._ml = 0.0

    def _state(self) -> dict[str, Any]:
        return {"cu": self._cu, "mu": self._mu, "cl": self._cl, "ml": self._ml}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._cu, self._mu = float(state["cu"]), float(state["mu"])
        self._cl, self._ml = float(state["cl"]), float(state["ml"])

    @property
    def statistics(self) -> tuple[float, float]:
        """``(S+, S-)`` now."""
        return self._cu - self._mu, self._cl - self._ml

    def _step(self, x: float) -> bool:
        z = (x - self.mean) / self.sd
        alarm = False
        if self._upper:
            c = self._cu + (z - self.k)
            self._cu = c
            if c < self._mu:
                self._mu = c
            alarm = c - self._mu > self.h
        if self._lower:
            c = self._cl + (-z - self.k)
            self._cl = c
            if c < self._ml:
                self._ml = c
            alarm = alarm or c - self._ml > self.h
        if alarm:
            self.reset()
        return alarm

    def _scan(self, x: np.ndarray) -> int:
        z = (x - self.mean) / self.sd
        alarm = np.zeros(len(x), dtype=bool)
        if self._upper:
            cu, mu = _running(self._cu, self._mu, z - self.k)
            alarm |= cu - mu > self.h
        if self._lower:
            cl, ml = _running(self._cl, self._ml, -z - self.k)
            alarm |= cl - ml > self.h
        if alarm.any():
            self.reset()
            return int(alarm.argmax())
        if self._upper:
            self._cu, self._mu = float(cu[-1]), float(mu[-1])
        if self._lower:
            self._cl, self._ml = float(cl[-1]), float(ml[-1])
        return -1


class SynchronisationAlarm(Cusum):
    """An alarm when the swarm synchronises: a one-sided CUSUM on the plurality's
    agreement (upwards) or on the answer entropy (downwards), against a fixed reference
    (the in-control mean and sd of that signal, e.g. from a reference period).

    Example:
        >>> alarm = SynchronisationAlarm(signal="agreement", mean=0.6, sd=0.15, h=4.0)
        >>> alarm.update_many([0.6] * 10 + [1.0] * 5).nonzero()[0].tolist()
        [11, 13]
    """

    kind: ClassVar[str] = "synchronisation"

    def __init__(
        self,
        *,
        signal: Literal["agreement", "entropy"] = "agreement",
        mean: float,
        sd: float,
        k: float = 0.5,
        h: float | None = None,
        target_arl: float | None = 1000.0,
    ) -> None:
        if signal not in ("agreement", "entropy"):
            raise InputError(
                f"SynchronisationAlarm: `signal` must be 'agreement' (alarm when it rises) "
                f"or 'entropy' (alarm when it falls); got {signal!r}."
            )
        self.signal: Literal["agreement", "entropy"] = signal
        side: Side = "upper" if signal == "agreement" else "lower"
        super().__init__(mean=mean, sd=sd, k=k, h=h, target_arl=target_arl, side=side)

    def params(self) -> dict[str, Any]:
        out = super().params()
        del out["side"]
        return {"signal": self.signal, **out}


class BernoulliCusum(_Scanner):
    """Bernoulli CUSUM on canary correctness (1 right, 0 wrong): alarm when the error rate
    rises from ``p0`` towards ``p1`` (Reynolds & Stoumbos 1999, JQT 31(1):87-108).

    Increments ``log(p1/p0)`` on an error and ``log((1-p1)/(1-p0))`` on a right answer;
    alarm when the statistic exceeds h, by default set from ``target_arl``
    (`bernoulli_cusum_threshold`).

    Example:
        >>> monitor = BernoulliCusum(p0=0.1, p1=0.3, h=2.0)
        >>> monitor.update_many([1] * 20 + [0] * 3).nonzero()[0].tolist()
        [21]
    """

    kind: ClassVar[str] = "bernoulli_cusum"

    def __init__(
        self,
        *,
        p0: float,
        p1: float,
        h: float | None = None,
        target_arl: float | None = 1000.0,
    ) -> None:
        owner = "BernoulliCusum"
        self.p0, self.p1 = _level(p0, "p0", owner), _level(p1, "p1", owner)
        if not self.p1 > self.p0:
            raise InputError(
                f"{owner}: the error rate to detect `p1` must exceed the in-control rate "
                f"`p0`; got p0={p0!r}, p1={p1!r}."
            )
        if h is None:
            if target_arl is None:
                raise InputError(f"{owner}: give `h` or `target_arl` (e.g. 1000).")
            h = bernoulli_cusum_threshold(target_arl, p0=self.p0, p1=self.p1)
        self.h = _positive(h, "h", owner)
        self.target_arl = None if target_arl is None else float(target_arl)
        self._w_error = math.log(self.p1 / self.p0)
        self._w_right = math.log((1.0 - self.p1) / (1.0 - self.p0))
        self.reset()

    def params(self) -> dict[str, Any]:
        return {"p0": self.p0, "p1": self.p1, "h": self.h, "target_arl": self.target_arl}

    def reset(self) -> None:
        self._c = self._m = 0.0

    def _state(self) -> dict[str, Any]:
        return {"c": self._c, "m": self._m}

    def _set_state(self, state: dict[str, Any]) -> None:
        self._c, self._m = float(state["c"]), float(state["m"])

    @property
    def statistic(self) -> float:
        return self._c - self._m

    def _check_values(self, x: np.ndarray) -> None:
        bad = (x != 0) & (x != 1)
        if bad.any():
            raise InputError(
                f"BernoulliCusum: values must be canary correctness, 1 (right) or 0 (wrong); "
                f"got {np.unique(x[bad])[:5].tolist()}."
            )

    def _check_value(self, x: float) -> None:
        if x != 0.0 and x != 1.0:
            self._check_values(np.array([x]))

    def _step(self, x: float) -> bool:
        c = self._c + (self._w_error if x == 0.0 else self._w_right)
        self._c = c
        if c < self._m:
            self._m = c
        if c - self._m > self.h:
            self.reset()
            return True
        return False

    def _scan(self, x: np.ndarray) -> int:
        c, m = _running(self._c, self._m, np.where(x == 0.0, self._w_error, self._w_right))
        alarm = c - m > self.h
        if alarm.any():
            self.reset()
            return int(alarm.argmax())
        self._c, self._m = float(c[-1]), float(m[-1])
        return -1


class PageHinkley(_Scanner):
    """The Page-Hinkley test (Page 1954; Hinkley 1971) with river's parameters and
    defaults (``river.drift.PageHinkley``): deviations from the running mean, less (or
    plus) ``delta``, summed with fading factor ``alpha``; alarm when the sum rises more than
    ``threshold`` above its minimum (``mode="up"``), falls more than it below its maximum
    (``"down"``) or either (``"both"``), once ``min_instances`` values have been seen.

    The threshold comes from a target in-control ARL when the signal's in-control
    distribution is given (`page_hinkley_threshold`: simulated, Monte Carlo standard error
    about 2.2 % of the target, in ``calibration``); ``threshold`` sets it by hand (river's
    route: no simulation); with neither, river's default 50 applies.

    The running mean is kept as total / n (river: an incremental mean); the two round
    differently in the last bits, which moves no alarm on the streams tested.

    Args:
        min_instances, delta, alpha, mode: river's parameters.
        threshold: river's threshold; given, it is used as is.
        target_arl: in-control ARL that sets the threshold (default 1000 when the
            in-control distribution is given).
        mean, sd: in-control mean and sd of a normal signal; or
        p0: in-control error rate of canary correctness (values 1 right, 0 wrong).

    Example:
        >>> ph = PageHinkley(threshold=5.0, min_instances=5)
        >>> ph.update_many([0.0] * 20 + [2.0] * 10).nonzero()[0].tolist()
        [22]
        >>> round(PageHinkley(mean=0.0, sd=1.0, target_arl=500).calibration.arl / 500, 1)
        1.0
    """

    kind: ClassVar[str] = "page_hinkley"

    def __init__(
        self,
        *,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float | None = None,
        alpha: float = 1 - 0.0001,
        mode: Literal["up", "down", "both"] = "both",
        target_arl: float | None = None,
        mean: float | None = None,
        sd: float | None = None,
        p0: float | None = None,
    ) -> None:
        owner = "PageHinkley"
        self.min_instances = _count(min_instances, "min_instances", owner)
        if isinstance(delta, bool) or not isinstance(delta, int | float) or not delta >= 0:
            raise InputError(f"{owner}: `delta` must be a number >= 0; got {delta!r}.")
        self.delta = float(delta)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha <= 1:
            raise InputError(f"{owner}: `alpha` must be a number in (0, 1]; got {alpha!r}.")
        self.alpha = float(alpha)
        if mode not in ("up", "down", "both"):
            raise InputError(f"{owner}: `mode` must be 'up', 'down' or 'both'; got {mode!r}.")
        self.mode: Literal["up", "down", "both"] = mode
        in_control, target = _arl_route(owner, "threshold", threshold, target_arl, mean, sd, p0)
        self.mean, self.sd, self.p0 = _in_control_fields(in_control)
        self.calibration: SimulatedThreshold | None = None
        if threshold is None and in_control is not None:
            target = _DEFAULT_TARGET_ARL if target is None else target
            self.calibration = page_hinkley_threshold(
                target,
                mean=self.mean,
                sd=self.sd,
                p0=self.p0,
                min_instances=self.min_instances,
                delta=self.delta,
                alpha=self.alpha,
                mode=mode,
            )
            threshold = self.calibration.value
        self.threshold = _positive(
            _RIVER_PH_THRESHOLD if threshold is None else threshold, "threshold", owner
        )
        self.target_arl = target if target_arl is None else float(target_arl)
        self._up = mode in ("up", "both")
        self._down = mode in ("down", "both")
        self.reset()

    def params(self) -> dict[str, Any]:
        return {
            "min_instances": self.min_instances,
            "delta": self.delta,
            "threshold": self.threshold,
            "alpha": self.alpha,
            "mode": self.mode,
            "target_arl": self.target_arl,
            "mean": self.mean,
            "sd": self.sd,
            "p0": self.p0,
        }

    def reset(self) -> None:
        self._n = 0
        self._total = 0.0
        self._s_inc = self._s_dec = 0.0
        self._min_inc = math.inf
        self._max_dec = -math.inf

    def _state(self) -> dict[str, Any]:
        # JSON has no infinity: an untouched extreme is saved as None.
        return {
            "n": self._n,
            "total": self._total,
            "s_inc": self._s_inc,
            "s_dec": self._s_dec,
            "min_inc": None if math.isinf(self._min_inc) else self._min_inc,
            "max_dec": None if math.isinf(self._max_dec) else self._max_dec,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._n = int(state["n"])
        self._total = float(state["total"])
        self._s_inc, self._s_dec = float(state["s_inc"]), float(state["s_dec"])
        self._min_inc = math.inf if state["min_inc"] is None else float(state["min_inc"])
        self._max_dec = -math.inf if state["max_dec"] is None else float(state["max_dec"])

    def _step(self, x: float) -> bool:
        n = self._n + 1
        total = self._total + x
        dev = x - total / n
        s_inc = self.alpha * self._s_inc + (dev - self.delta)
        s_dec = self.alpha * self._s_dec + (dev + self.delta)
        self._n, self._total, self._s_inc, self._s_dec = n, total, s_inc, s_dec
        if s_inc < self._min_inc:
            self._min_inc = s_inc
        if s_dec > self._max_dec:
            self._max_dec = s_dec
        if n < self.min_instances:
            return False
        alarm = (self._up and s_inc - self._min_inc > self.threshold) or (
            self._down and self._max_dec - s_dec > self.threshold
        )
        if alarm:
            self.reset()
        return alarm

    def _scan(self, x: np.ndarray) -> int:
        count = self._n + np.arange(1, len(x) + 1, dtype=np.float64)
        total = np.cumsum(np.concatenate(([self._total], x)))[1:]
        dev = x - total / count
        fade = [1.0, -self.alpha]
        # lfilter's first-order recursion y = (alpha * y_prev) + u rounds as `_step` does.
        s_inc = scipy_signal.lfilter([1.0], fade, dev - self.delta, zi=[self.alpha * self._s_inc])[
            0
        ]
        s_dec = scipy_signal.lfilter([1.0], fade, dev + self.delta, zi=[self.alpha * self._s_dec])[
            0
        ]
        min_inc = np.minimum.accumulate(np.concatenate(([self._min_inc], s_inc)))[1:]
        max_dec = np.maximum.accumulate(np.concatenate(([self._max_dec], s_dec)))[1:]
        alarm = np.zeros(len(x), dtype=bool)
        if self._up:
            alarm |= s_inc - min_inc > self.threshold
        if self._down:
            alarm |= max_dec - s_dec > self.threshold
        alarm &= count >= self.min_instances
        if alarm.any():
            self.reset()
            return int(alarm.argmax())
        self._n += len(x)
        self._total, self._s_inc, self._s_dec = float(total[-1]), float(s_inc[-1]), float(s_dec[-1])
        self._min_inc, self._max_dec = float(min_inc[-1]), float(max_dec[-1])
        return -1


def _fill_buckets(
    totals: list[list[float]], variances: list[list[float]], values: list[float], limit: int
) -> None:
    """Add each value to ADWIN's rows as `Adwin._insert` does (its `_compress` inlined:
    a merge comes every other value), with the same arithmetic. Row 0's buckets hold one
    value, so there ``size * 0.5 = 0.5`` and ``t / size = t`` exactly."""
    row0, var0 = totals[0], variances[0]
    for value in values:
        row0.append(value)
        var0.append(0.0)
        if len(row0) > limit:
            t0, t1 = row0[0], row0[1]
            merged = var0[0] + var0[1] + 0.5 * (t0 - t1) * (t0 - t1)
            del row0[:2]
            del var0[:2]
            if len(totals) == 1:
                totals.append([])
                variances.append([])
            row_totals, row_variances = totals[1], variances[1]
            row_totals.append(t0 + t1)
            row_variances.append(merged)
            row = 1
            while len(row_totals) > limit:
                size = _SIZES[row]
                t0, t1 = row_totals[0], row_totals[1]
                mu0, mu1 = t0 / size, t1 / size
                merged = (
                    row_variances[0] + row_variances[1] + size * 0.5 * (mu0 - mu1) * (mu0 - mu1)
                )
                del row_totals[:2]
                del row_variances[:2]
                row += 1
                if row == len(totals):
                    totals.append([])
                    variances.append([])
                row_totals, row_variances = totals[row], variances[row]
                row_totals.append(t0 + t1)
                row_variances.append(merged)


class Adwin(Monitor):
    """ADWIN2 adaptive windowing (Bifet & Gavalda 2007) with river's parameters, defaults
    and arithmetic (``river.drift.ADWIN``, river 0.26), so that both give the same alarms.

    The window is kept as rows of buckets, row i holding up to ``max_buckets`` summaries
    (total, variance) of 2^i values; every ``clock`` values (once more than
    ``grace_period`` are held), each cut of the window into an older part W0 and a newer W1,
    both at least ``min_window_length`` long, is tested: ``|mean W0 - mean W1| > eps`` with
    ``eps = sqrt(2 m var d') + 2/3 d' m``, ``m = 1/(n0 - l + 1) + 1/(n1 - l + 1)``,
    ``d' = log(2 log(W) / delta)``, var the window's variance. A cut is an alarm, and as in
    river 0.26 the monitor then restarts (river first drops old buckets and tests again,
    which the restart makes moot, so the first cut found decides).

    ``delta`` comes from a target in-control ARL when the signal's in-control distribution
    is given (`adwin_delta`: simulated, Monte Carlo standard error about 2.2 % of the
    target, in ``calibration``); ``delta`` sets it by hand (river's route); with neither,
    river's default 0.002 applies. ADWIN alarms rarely in control: even delta near 1 gives
    an in-control ARL in the thousands, hence the default target of 10,000.

    The batch path inserts values as `update` does (plain floats, no per-value calls) and
    runs the cut tests of many checks at once in numpy, in the same order of operations,
    so the alarms and the state are exactly those of `update`.

    Args:
        delta: river's confidence; given, it is used as is.
        clock, max_buckets, min_window_length, grace_period: river's parameters.
        target_arl: in-control ARL that sets delta (default 10,000 when the in-control
            distribution is given).
        mean, sd: in-control mean and sd of a normal signal; or
        p0: in-control error rate of canary correctness (values 1 right, 0 wrong).

    Example:
        >>> adwin = Adwin()
        >>> alarms = adwin.update_many([0.0] * 500 + [1.0] * 200)
        >>> int(alarms.nonzero()[0][0])
        511
    """

    kind: ClassVar[str] = "adwin"

    def __init__(
        self,
        *,
        delta: float | None = None,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        target_arl: float | None = None,
        mean: float | None = None,
        sd: float | None = None,
        p0: float | None = None,
    ) -> None:
        owner = "Adwin"
        self.clock = _count(clock, "clock", owner)
        self.max_buckets = _count(max_buckets, "max_buckets", owner, minimum=2)
        self.min_window_length = _count(min_window_length, "min_window_length", owner)
        self.grace_period = _count(grace_period, "grace_period", owner, minimum=0)
        in_control, target = _arl_route(owner, "delta", delta, target_arl, mean, sd, p0)
        self.mean, self.sd, self.p0 = _in_control_fields(in_control)
        self.calibration: SimulatedThreshold | None = None
        if delta is None and in_control is not None:
            target = _ADWIN_DEFAULT_TARGET_ARL if target is None else target
            self.calibration = adwin_delta(
                target,
                mean=self.mean,
                sd=self.sd,
                p0=self.p0,
                clock=self.clock,
                max_buckets=self.max_buckets,
                min_window_length=self.min_window_length,
                grace_period=self.grace_period,
            )
            delta = self.calibration.value
        self.delta = _level(_RIVER_ADWIN_DELTA if delta is None else delta, "delta", owner)
        self.target_arl = target if target_arl is None else float(target_arl)
        self.reset()

    def params(self) -> dict[str, Any]:
        return {
            "delta": self.delta,
            "clock": self.clock,
            "max_buckets": self.max_buckets,
            "min_window_length": self.min_window_length,
            "grace_period": self.grace_period,
            "target_arl": self.target_arl,
            "mean": self.mean,
            "sd": self.sd,
            "p0": self.p0,
        }

    def reset(self) -> None:
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]
        self._width = 0.0
        self._total = 0.0
        self._variance = 0.0
        self._tick = 0

    def _state(self) -> dict[str, Any]:
        return {
            "totals": [list(row) for row in self._totals],
            "variances": [list(row) for row in self._variances],
            "width": self._width,
            "total": self._total,
            "variance": self._variance,
            "tick": self._tick,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._totals = [[float(v) for v in row] for row in state["totals"]]
        self._variances = [[float(v) for v in row] for row in state["variances"]]
        self._width = float(state["width"])
        self._total = float(state["total"])
        self._variance = float(state["variance"])
        self._tick = int(state["tick"])

    @property
    def width(self) -> int:
        """Values in the current window."""
        return int(self._width)

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty)."""
        return self._total / self._width if self._width else 0.0

    def _compress(self, row: int = 0) -> None:
        """Merge the two oldest buckets of every full row into the next one, from ``row``
        (which has just reached ``max_buckets + 1``)."""
        totals, variances, limit = self._totals, self._variances, self.max_buckets
        while len(totals[row]) > limit:
            size = float(1 << row)
            row_totals, row_variances = totals[row], variances[row]
            t0, t1 = row_totals[0], row_totals[1]
            mu0, mu1 = t0 / size, t1 / size
            merged_variance = (
                row_variances[0] + row_variances[1] + size * 0.5 * (mu0 - mu1) * (mu0 - mu1)
            )
            if row + 1 == len(totals):
                totals.append([])
                variances.append([])
            totals[row + 1].append(t0 + t1)
            variances[row + 1].append(merged_variance)
            del row_totals[:2]
            del row_variances[:2]
            row += 1

    def _insert(self, x: float) -> None:
        self._totals[0].append(x)
        self._variances[0].append(0.0)
        self._width += 1.0
        width = self._width
        if width > 1.0:
            gap = x - self._total / (width - 1.0)
            self._variance += (width - 1.0) * gap * gap / width
        self._total += x
        if len(self._totals[0]) > self.max_buckets:
            self._compress()

    def _detect(self) -> bool:
        """Whether any cut of the window into older W0 and newer W1 separates their means.

        river then drops the oldest bucket and tests again; as the monitor restarts on a
        cut, the first cut decides and the rest is skipped."""
        length = float(self.min_window_length)
        width, variance = self._width, self._variance
        if width < 2.0 * length:
            return False  # no cut leaves both parts min_window_length long
        d_prime = math.log(2.0 * math.log(width) / self.delta)
        n0, n1, u0, u1 = 0.0, width, 0.0, self._total
        totals = self._totals
        for row in range(len(totals) - 1, -1, -1):
            size = float(1 << row)
            row_totals = totals[row]
            last = len(row_totals) - 1
            for index, total in enumerate(row_totals):
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if row == 0 and index == last:
                    break
                if n1 >= length and n0 >= length:
                    m = 1.0 / (n0 - length + 1.0) + 1.0 / (n1 - length + 1.0)
                    epsilon = math.sqrt(2.0 * m * (variance / width) * d_prime) + (
                        2.0 / 3.0 * d_prime * m
                    )
                    if abs((u0 / n0) - (u1 / n1)) > epsilon:
                        return True
        return False

    def _step(self, x: float) -> bool:
        self._insert(x)
        self._tick += 1
        if self._tick % self.clock == 0 and self._width > self.grace_period and self._detect():
            self.reset()
            return True
        return False

    def _alarm_positions(self, x: np.ndarray) -> np.ndarray:
        alarms: list[int] = []
        values = x.tolist()
        start, n = 0, len(values)
        while start < n:
            # Values inserted past an alarm are wasted (the window restarts there), about
            # half a block per alarm; each block's cut tests cost a fixed numpy overhead
            # (that of ~_ADWIN_OVERHEAD inserts). With the run so far as the guess of the
            # run length T, a block of sqrt(2 T overhead) balances the two.
            guess = max(self._tick, _ADWIN_MIN_BLOCK)
            block = min(_ADWIN_MAX_BLOCK, max(_ADWIN_MIN_BLOCK, isqrt(2 * _ADWIN_OVERHEAD * guess)))
            stop = min(n, start + block)
            hit = self._scan_block(x, values, start, stop)
            if hit < 0:
                start = stop
            else:
                alarms.append(hit)
                start = hit + 1
        return np.asarray(alarms, dtype=np.int64)

    def _scan_block(self, x: np.ndarray, values: list[float], start: int, stop: int) -> int:
        """Take ``x[start:stop]`` as `_step` does, keeping at every check the buckets'
        totals, then run all the checks' cut tests at once (`_first_cut`). Return the
        position of the first alarm (the state is then reset) or -1.

        Exactly `_step`'s arithmetic: the window's total and variance are sequential
        cumulative sums (np.cumsum adds in order) of the same terms, and the buckets are
        filled and merged by the same steps, inlined."""
        n = stop - start
        block = x[start:stop]
        width = self._width + np.arange(1, n + 1, dtype=np.float64)
        before = width - 1.0
        total = np.cumsum(np.concatenate(([self._total], block)))  # before each value, end
        gap = block - total[:-1] / np.where(before > 0, before, 1.0)
        spread = before * gap * gap / width
        spread[before == 0] = 0.0  # the first value of a window adds no variance
        variance = np.cumsum(np.concatenate(([self._variance], spread)))
        tick = self._tick + np.arange(1, n + 1)
        checks = np.flatnonzero((tick % self.clock == 0) & (width > self.grace_period))
        totals, variances, limit = self._totals, self._variances, self.max_buckets
        chain_rows = itertools.chain.from_iterable
        flat: list[float] = []
        counts: list[int] = []  # buckets per row, oldest row first, check after check
        n_rows: list[int] = []
        done = start
        for upto in (checks + (start + 1)).tolist():
            _fill_buckets(totals, variances, values[done:upto], limit)
            done = upto
            oldest_first = totals[::-1]
            flat.extend(chain_rows(oldest_first))
            counts.extend(map(len, oldest_first))
            n_rows.append(len(totals))
        _fill_buckets(totals, variances, values[done:stop], limit)
        self._width, self._total = float(width[-1]), float(total[-1])
        self._variance, self._tick = float(variance[-1]), int(tick[-1])
        if not len(checks):
            return -1
        first = self._first_cut(
            flat, counts, n_rows, width[checks], total[checks + 1], variance[checks + 1]
        )
        if first < 0:
            return -1
        self.reset()
        return start + int(checks[first])

    def _first_cut(
        self,
        flat: list[float],
        counts: list[int],
        n_rows: list[int],
        width: np.ndarray,
        total: np.ndarray,
        variance: np.ndarray,
    ) -> int:
        """Index of the first check at which some cut fires (`_detect`), or -1.

        ``flat`` holds every check's bucket totals (oldest first), ``counts`` the buckets
        in each row of each check (oldest row first), ``n_rows`` the rows of each check;
        ``width``, ``total``, ``variance``: the window's at each check."""
        n_checks = len(n_rows)
        rows_held = np.asarray(n_rows)
        per_row = np.asarray(counts)
        # Row r (counted from 0 = newest) holds buckets of 2^r values.
        row_start = np.repeat(np.cumsum(rows_held) - rows_held, rows_held)
        row = np.repeat(rows_held, rows_held) - 1 - (np.arange(len(per_row)) - row_start)
        sizes = np.repeat(np.ldexp(1.0, row), per_row)
        held = np.add.reduceat(per_row, np.cumsum(rows_held) - rows_held)
        which = np.repeat(np.arange(n_checks), held)
        column = np.arange(len(flat)) - np.repeat(np.cumsum(held) - held, held)
        bucket_totals = np.zeros((n_checks, int(held.max()) + 1))
        bucket_sizes = np.zeros((n_checks, int(held.max())))
        # u1 starts at the window's total and loses each bucket in turn, as in _detect
        # (x + (-b) rounds as x - b); u0 and n0 gain them; padding adds zeros at the end.
        bucket_totals[:, 0] = total
        bucket_totals[which, column + 1] = -np.asarray(flat)
        u1_all = np.cumsum(bucket_totals, axis=1)
        u0 = np.cumsum(-bucket_totals[:, 1:], axis=1)
        u1 = u1_all[:, 1:]
        bucket_sizes[which, column] = sizes
        n0 = np.cumsum(bucket_sizes, axis=1)
        n1 = width[:, None] - n0
        length = float(self.min_window_length)
        # The last bucket has n1 = 0 and padding n1 = 0: both fall out here.
        rows, cols = np.nonzero((n0 >= length) & (n1 >= length))
        if not len(rows):
            return -1
        # Only checks with a cut to test (width >= 2 * length >= 2, so log(width) > 0).
        d_prime = np.zeros(n_checks)
        tested = np.unique(rows)
        d_prime[tested] = [math.log(2.0 * math.log(w) / self.delta) for w in width[tested].tolist()]
        a0, a1 = n0[rows, cols], n1[rows, cols]
        m = 1.0 / (a0 - length + 1.0) + 1.0 / (a1 - length + 1.0)
        d = d_prime[rows]
        epsilon = np.sqrt(2.0 * m * (variance / width)[rows] * d) + (2.0 / 3.0 * d * m)
        fired = np.abs((u0[rows, cols] / a0) - (u1[rows, cols] / a1)) > epsilon
        return int(rows[fired].min()) if fired.any() else -1


MONITORS: dict[str, type[Monitor]] = {
    cls.kind: cls for cls in (Adwin, BernoulliCusum, Cusum, PageHinkley, SynchronisationAlarm)
}
"""Every monitor kind, by the name used in ``to_dict`` and in monitors.toml."""


def monitor_from_dict(data: dict[str, Any]) -> Monitor:
    """Rebuild any monitor saved with `Monitor.to_dict`.

    Example:
        >>> saved = Cusum(h=5.0).to_dict()
        >>> type(monitor_from_dict(saved)).__name__
        'Cusum'
    """
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in MONITORS:
        raise InputError(
            f"monitor_from_dict: unknown monitor kind {kind!r}; known: {', '.join(MONITORS)}."
        )
    return MONITORS[str(kind)].from_dict(data)


def alarm_run_lengths(alarms: np.ndarray) -> np.ndarray:
    """Run lengths (decisions up to and including each alarm, counted from the start or
    the previous alarm) of a boolean alarm series; their mean estimates the ARL.

    Example:
        >>> alarm_run_lengths(np.array([0, 0, 1, 0, 1], dtype=bool)).tolist()
        [3, 2]
    """
    where = np.flatnonzero(np.asarray(alarms, dtype=bool))
    return np.diff(np.concatenate(([-1], where)))


class CanaryMixer:
    """Decides, decision by decision, whether the next item is a canary (an item with a
    known answer, mixed in to measure the swarm's accuracy as it runs), at ``rate``.

    ``next()`` and ``draw(n)`` give the same sequence; the state (the generator's) saves
    and restores with `to_dict` / `from_dict`.

    Example:
        >>> mixer = CanaryMixer(0.1, seed=0)
        >>> plan = mixer.mix([f"task-{i}" for i in range(100)], ["canary-a", "canary-b"])
        >>> int(plan["is_canary"].sum()), int((~plan["is_canary"]).sum())
        (11, 100)
    """

    def __init__(self, rate: float, *, seed: int = 0) -> None:
        self.rate = _level(rate, "rate", "CanaryMixer")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InputError(f"CanaryMixer: `seed` must be an integer >= 0; got {seed!r}.")
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._served = 0

    def next(self) -> bool:
        """Whether the next decision is a canary."""
        return bool(self._rng.random() < self.rate)

    def draw(self, n: int) -> np.ndarray:
        """``(n,)`` bool: whether each of the next n decisions is a canary."""
        return np.asarray(self._rng.random(_count(n, "n", "CanaryMixer.draw", 0)) < self.rate)

    def mix(self, task_ids: Sequence[Any], canary_ids: Sequence[Any]) -> pd.DataFrame:
        """A stream with every task in order and canaries mixed in at the rate, drawn in
        turn from ``canary_ids`` (cycled): columns ``step``, ``item_id``, ``is_canary``."""
        if not len(canary_ids):
            raise InputError(
                "CanaryMixer.mix: `canary_ids` is empty; give items with known answers."
            )
        n_tasks = len(task_ids)
        flags = np.zeros(0, dtype=bool)
        while int((~flags).sum()) < n_tasks:
            flags = np.concatenate([flags, self.draw(max(64, 2 * n_tasks))])
        last = int(np.flatnonzero(~flags)[n_tasks - 1]) if n_tasks else -1
        flags = flags[: last + 1]
        items = np.empty(len(flags), dtype=object)
        items[~flags] = list(task_ids)
        picks = (self._served + np.arange(int(flags.sum()))) % len(canary_ids)
        self._served += int(flags.sum())
        items[flags] = [canary_ids[int(i)] for i in picks]
        return pd.DataFrame({"step": np.arange(len(flags)), "item_id": items, "is_canary": flags})

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "canary_mixer",
            "version": 1,
            "params": {"rate": self.rate, "seed": self.seed},
            "state": {"generator": self._rng.bit_generator.state, "served": self._served},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanaryMixer:
        mixer = cls(**data["params"])
        mixer._rng.bit_generator.state = data["state"]["generator"]
        mixer._served = int(data["state"]["served"])
        return mixer
