"""Replaying a stream of swarm decisions through monitors named in a ``monitors.toml``.

The stream is a table (CSV, TSV, JSONL or Parquet) with one row per decision: an optional
``step`` column (rows are sorted by it; default the row order) and one numeric column per
signal a monitor watches (``correct`` for canaries, 1/0 and empty elsewhere;
``agreement``; ``entropy``; any other). `decision_stream` writes one from a `Responses`.
See docs/guard.md for both formats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from monoculture._toml import read_toml, validate
from monoculture.errors import InputError
from monoculture.guard._monitors import (
    MONITORS,
    Adwin,
    BernoulliCusum,
    Cusum,
    Monitor,
    PageHinkley,
    SynchronisationAlarm,
)

__all__ = [
    "MonitorsConfig",
    "ReplayResult",
    "load_monitors",
    "replay",
]

Progress = Callable[[str, int, int], None]
_CHUNK = 200_000


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, description="Label in the output (default: the kind).")
    signal: str = Field(description="The stream column the monitor watches.")


class _Reference(_Spec):
    mean: float | None = Field(None, description="In-control mean of the signal.")
    sd: float | None = Field(None, gt=0, description="In-control sd of the signal.")
    reference_steps: int | None = Field(
        None, ge=2, description="Estimate mean and sd from the first N values instead."
    )
    k: float = Field(0.5, ge=0, description="Reference value, in sd.")
    h: float | None = Field(None, gt=0, description="Decision interval (default: from ARL).")
    target_arl: float = Field(1000.0, gt=1, description="In-control ARL that sets h.")

    @model_validator(mode="after")
    def _one_reference(self) -> _Reference:
        if self.reference_steps is None and (self.mean is None or self.sd is None):
            raise ValueError(
                "give the in-control `mean` and `sd` of the signal, or `reference_steps = N` "
                "to estimate them from the stream's first N values"
            )
        return self


class CusumSpec(_Reference):
    kind: Literal["cusum"]
    side: Literal["both", "upper", "lower"] = "both"


class SynchronisationSpec(_Reference):
    kind: Literal["synchronisation"]
    signal: Literal["agreement", "entropy"] = "agreement"


class BernoulliCusumSpec(_Spec):
    kind: Literal["bernoulli_cusum"]
    signal: str = "correct"
    p0: float | None = Field(None, gt=0, lt=1, description="In-control error rate.")
    reference_steps: int | None = Field(None, ge=2, description="Estimate p0 from N canaries.")
    p1: float | None = Field(None, gt=0, lt=1, description="Error rate to detect.")
    odds_ratio: float = Field(2.0, gt=1, description="p1 as odds ratio to p0, if no p1.")
    h: float | None = Field(None, gt=0, description="Decision interval (default: from ARL).")
    target_arl: float = Field(1000.0, gt=1, description="In-control ARL that sets h.")

    @model_validator(mode="after")
    def _one_reference(self) -> BernoulliCusumSpec:
        if self.p0 is None and self.reference_steps is None:
            raise ValueError(
                "give the in-control error rate `p0`, or `reference_steps = N` to estimate it "
                "from the first N canaries"
            )
        return self


class _InControlSpec(_Spec):
    """The in-control distribution that sets a river monitor's parameter from a target
    ARL: a normal signal (``mean``, ``sd``), canary correctness (``p0``), or either
    estimated from the first ``reference_steps`` values (0/1 values only: canaries)."""

    mean: float | None = Field(None, description="In-control mean of a normal signal.")
    sd: float | None = Field(None, gt=0, description="In-control sd of a normal signal.")
    p0: float | None = Field(
        None, gt=0, lt=1, description="In-control error rate of canary correctness (1/0)."
    )
    reference_steps: int | None = Field(
        None, ge=2, description="Estimate mean and sd (or p0, on 0/1 values) from N values."
    )
    target_arl: float | None = Field(
        None, gt=1, description="In-control ARL that sets the parameter (default per kind)."
    )

    def _route(self, parameter: str) -> None:
        given = [
            name
            for name, present in (
                ("mean/sd", self.mean is not None or self.sd is not None),
                ("p0", self.p0 is not None),
                ("reference_steps", self.reference_steps is not None),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError(
                f"give the in-control distribution one way: `mean` and `sd`, `p0`, or "
                f"`reference_steps`; got {' and '.join(given)}"
            )
        if (self.mean is None) != (self.sd is None):
            raise ValueError("give both `mean` and `sd` of the in-control normal signal")
        if self.target_arl is not None and getattr(self, parameter) is not None:
            raise ValueError(
                f"give `target_arl` (the {parameter} is then simulated) or `{parameter}` "
                "(river's setting, used as is), not both"
            )
        if self.target_arl is not None and not given:
            raise ValueError(
                "`target_arl` needs the in-control distribution: add `mean` and `sd`, `p0`, "
                f"or `reference_steps = N`; or set `{parameter}` instead"
            )


class PageHinkleySpec(_InControlSpec):
    kind: Literal["page_hinkley"]
    min_instances: int = Field(30, ge=1)
    delta: float = Field(0.005, ge=0)
    threshold: float | None = Field(
        None, gt=0, description="River's threshold (default: from the ARL, else 50)."
    )
    alpha: float = Field(1 - 0.0001, gt=0, le=1)
    mode: Literal["up", "down", "both"] = "both"

    @model_validator(mode="after")
    def _one_route(self) -> PageHinkleySpec:
        self._route("threshold")
        return self


class AdwinSpec(_InControlSpec):
    kind: Literal["adwin"]
    delta: float | None = Field(
        None, gt=0, lt=1, description="River's delta (default: from the ARL, else 0.002)."
    )
    clock: int = Field(32, ge=1)
    max_buckets: int = Field(5, ge=2)
    min_window_length: int = Field(5, ge=1)
    grace_period: int = Field(10, ge=0)

    @model_validator(mode="after")
    def _one_route(self) -> AdwinSpec:
        self._route("delta")
        return self


MonitorSpec = Annotated[
    CusumSpec | SynchronisationSpec | BernoulliCusumSpec | PageHinkleySpec | AdwinSpec,
    Field(discriminator="kind"),
]


class MonitorsConfig(BaseModel):
    """A ``monitors.toml``: ``version = 1`` and one ``[[monitor]]`` table per monitor."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = Field(1, description="Format version.")
    monitor: list[MonitorSpec] = Field(min_length=1, description="The monitors, in order.")


def load_monitors(path: str | Path) -> MonitorsConfig:
    """Read and check a ``monitors.toml``; errors name the monitor, the key and the line."""
    raw, text = read_toml(path)
    tables = raw.get("monitor")
    if not isinstance(tables, list) or not tables:
        raise InputError(
            f"{path}: no monitors; add at least one [[monitor]] table with a `kind` (one of "
            f"{', '.join(MONITORS)})."
        )
    kind_lines = [
        n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("kind")
    ]
    for position, table in enumerate(tables):
        kind = table.get("kind") if isinstance(table, dict) else None
        if kind not in MONITORS:
            line = f" (line {kind_lines[position]})" if position < len(kind_lines) else ""
            raise InputError(
                f"{path}: [[monitor]] number {position + 1}: unknown kind {kind!r}{line}; "
                f"use one of {', '.join(MONITORS)}."
            )
    return validate(MonitorsConfig, raw, text, path)


@dataclass(frozen=True)
class ReplayResult:
    """What a replay found.

    Attributes:
        alarms: one row per alarm: ``monitor``, ``kind``, ``signal``, ``step``,
            ``run_length`` (steps since the monitor's start or previous alarm), ``delay``
            (steps since ``change_step``; NaN before it or without it) and ``false_alarm``
            (before ``change_step``; False without it).
        summary: one row per monitor: ``monitor``, ``kind``, ``signal``, ``start_step``,
            ``n_alarms``, ``false_alarms``, ``first_alarm_after_change``, ``delay``.
        n_steps: decisions in the stream.
        change_step: the step the caller says the stream changed at, if any.
        monitors: the monitors in their final state (``to_dict`` saves them).
    """

    alarms: pd.DataFrame
    summary: pd.DataFrame
    n_steps: int
    change_step: int | None
    monitors: tuple[Monitor, ...]


def _reference(values: np.ndarray, steps: int, spec: Any) -> tuple[np.ndarray, int]:
    """The first ``steps`` finite values and the position right after them."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) < steps:
        raise InputError(
            f"monitor {spec.name or spec.kind!r}: reference_steps = {steps} but the signal "
            f"{spec.signal!r} has only {len(finite)} values; lower reference_steps or give "
            "the reference values."
        )
    return values[finite[:steps]], int(finite[steps - 1]) + 1


def _build(spec: Any, values: np.ndarray) -> tuple[Monitor, int]:
    """The monitor of a spec and the stream position it starts at."""
    start = 0
    if isinstance(spec, CusumSpec | SynchronisationSpec):
        mean, sd = spec.mean, spec.sd
        if spec.reference_steps is not None:
            sample, start = _reference(values, spec.reference_steps, spec)
            mean, sd = float(sample.mean()), float(sample.std(ddof=1))
            if not sd > 0:
                raise InputError(
                    f"monitor {spec.name or spec.kind!r}: the signal {spec.signal!r} is "
                    f"constant over the {spec.reference_steps} reference steps (sd 0); use "
                    "more reference steps or give `sd`."
                )
        if mean is None or sd is None:  # the spec's validator rules this out
            raise InputError(f"monitor {spec.name or spec.kind!r}: give `mean` and `sd`.")
        if isinstance(spec, SynchronisationSpec):
            return (
                SynchronisationAlarm(
                    signal=spec.signal,
                    mean=mean,
                    sd=sd,
                    k=spec.k,
                    h=spec.h,
                    target_arl=spec.target_arl,
                ),
                start,
            )
        return (
            Cusum(mean=mean, sd=sd, k=spec.k, h=spec.h, target_arl=spec.target_arl, side=spec.side),
            start,
        )
    if isinstance(spec, BernoulliCusumSpec):
        p0 = spec.p0
        if spec.reference_steps is not None:
            sample, start = _reference(values, spec.reference_steps, spec)
            p0 = float(1.0 - sample.mean())
            if not 0 < p0 < 1:
                raise InputError(
                    f"monitor {spec.name or spec.kind!r}: the canaries' error rate over the "
                    f"{spec.reference_steps} reference steps is {p0:g}; a Bernoulli CUSUM "
                    "needs it strictly between 0 and 1: use more reference steps or give p0."
                )
        if p0 is None:  # the spec's validator rules this out
            raise InputError(f"monitor {spec.name or spec.kind!r}: give `p0`.")
        odds = spec.odds_ratio * p0 / (1.0 - p0)
        p1 = spec.p1 if spec.p1 is not None else odds / (1.0 + odds)
        if not p1 > p0:
            raise InputError(
                f"monitor {spec.name or spec.kind!r}: p1 = {p1:g} must exceed p0 = {p0:g}."
            )
        return BernoulliCusum(p0=p0, p1=p1, h=spec.h, target_arl=spec.target_arl), start
    if isinstance(spec, PageHinkleySpec | AdwinSpec):
        mean, sd, p0 = spec.mean, spec.sd, spec.p0
        if spec.reference_steps is not None:
            sample, start = _reference(values, spec.reference_steps, spec)
            mean, sd, p0 = _estimate_in_control(sample, spec)
        if isinstance(spec, PageHinkleySpec):
            monitor: Monitor = PageHinkley(
                min_instances=spec.min_instances,
                delta=spec.delta,
                threshold=spec.threshold,
                alpha=spec.alpha,
                mode=spec.mode,
                target_arl=spec.target_arl,
                mean=mean,
                sd=sd,
                p0=p0,
            )
        else:
            monitor = Adwin(
                delta=spec.delta,
                clock=spec.clock,
                max_buckets=spec.max_buckets,
                min_window_length=spec.min_window_length,
                grace_period=spec.grace_period,
                target_arl=spec.target_arl,
                mean=mean,
                sd=sd,
                p0=p0,
            )
        return monitor, start
    raise InputError(f"monitor {spec.name or spec.kind!r}: unknown kind {spec.kind!r}.")


def _estimate_in_control(
    sample: np.ndarray, spec: PageHinkleySpec | AdwinSpec
) -> tuple[float | None, float | None, float | None]:
    """``(mean, sd, p0)`` from reference values: canary correctness (p0) when they are all
    0 or 1, else a normal signal (mean, sd)."""
    name = spec.name or spec.kind
    if np.isin(sample, (0.0, 1.0)).all():
        p0 = float(1.0 - sample.mean())
        if not 0 < p0 < 1:
            raise InputError(
                f"monitor {name!r}: the {spec.reference_steps} reference values of "
                f"{spec.signal!r} are all {int(sample[0])}, so the in-control error rate "
                "cannot be estimated: use more reference steps or give `p0`."
            )
        return None, None, p0
    sd = float(sample.std(ddof=1))
    if not sd > 0:
        raise InputError(
            f"monitor {name!r}: the signal {spec.signal!r} is constant over the "
            f"{spec.reference_steps} reference steps (sd 0); use more reference steps or "
            "give `mean` and `sd`."
        )
    return float(sample.mean()), sd, None


def _signal(stream: pd.DataFrame, spec: Any) -> np.ndarray:
    if spec.signal not in stream.columns:
        raise InputError(
            f"monitor {spec.name or spec.kind!r} watches the column {spec.signal!r}, which "
            f"the stream lacks (columns: {list(stream.columns)}); set `signal` to one of them."
        )
    values: np.ndarray = pd.to_numeric(stream[spec.signal], errors="coerce").to_numpy(
        dtype=np.float64
    )
    text = stream[spec.signal].astype(str).str.strip()
    bad = np.isnan(values) & stream[spec.signal].notna().to_numpy() & (text != "").to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"stream column {spec.signal!r}: row {row + 1} holds "
            f"{stream[spec.signal].iloc[row]!r}, not a number; leave it empty for no value."
        )
    return values


def replay(
    stream: pd.DataFrame,
    monitors: MonitorsConfig,
    *,
    change_step: int | None = None,
    progress: Progress | None = None,
) -> ReplayResult:
    """Run every monitor over the stream, vectorised in chunks, and list the alarms.

    Args:
        stream: one row per decision (see the module docstring).
        monitors: the parsed ``monitors.toml`` (`load_monitors`).
        change_step: the step at which the stream is known to change (a simulation's
            injected shift): alarms before it are false alarms, and the first after it gives
            the detection delay.
        progress: ``progress(stage, done, total)`` callback (rows replayed).

    Example:
        >>> config = MonitorsConfig.model_validate(
        ...     {"monitor": [{"kind": "cusum", "signal": "x", "mean": 0, "sd": 1, "h": 5}]})
        >>> stream = pd.DataFrame({"x": [0.0] * 50 + [3.0] * 10})
        >>> replay(stream, config, change_step=50).alarms[["step", "delay"]].values.tolist()
        [[52.0, 2.0], [55.0, 5.0], [58.0, 8.0]]
    """
    if not isinstance(stream, pd.DataFrame) or len(stream) == 0:
        raise InputError("replay: the stream is empty; give one row per decision.")
    if "step" in stream.columns:
        steps_raw = pd.to_numeric(stream["step"], errors="coerce")
        if steps_raw.isna().any() or steps_raw.duplicated().any():
            raise InputError(
                "replay: the stream's `step` column must hold distinct integers (one row per "
                "decision); fix it or drop the column to use the row order."
            )
        order = np.argsort(steps_raw.to_numpy(), kind="stable")
        stream = stream.iloc[order].reset_index(drop=True)
        steps = steps_raw.to_numpy()[order].astype(np.int64)
    else:
        steps = np.arange(len(stream), dtype=np.int64)
    if change_step is not None and not isinstance(change_step, int | np.integer):
        raise InputError(f"replay: `change_step` must be an integer step; got {change_step!r}.")
    built: list[tuple[Any, Monitor, int, np.ndarray]] = []
    for spec in monitors.monitor:
        values = _signal(stream, spec)
        monitor, start = _build(spec, values)
        built.append((spec, monitor, start, values))
    n = len(stream)
    hits: list[list[int]] = [[] for _ in built]
    update = progress or (lambda stage, done, total: None)
    update("replay", 0, n)
    for low in range(0, n, _CHUNK):
        high = min(n, low + _CHUNK)
        for index, (_, monitor, start, values) in enumerate(built):
            if high <= start:
                continue
            first = max(low, start)
            alarms = monitor.update_many(values[first:high])
            hits[index].extend((first + np.flatnonzero(alarms)).tolist())
        update("replay", high, n)
    rows, summary = [], []
    for (spec, _, start, _), positions in zip(built, hits, strict=True):
        name = spec.name or spec.kind
        start_step = int(steps[start]) if start < n else int(steps[-1]) + 1
        previous = start_step - 1
        first_after, false_alarms = None, 0
        for position in positions:
            step = int(steps[position])
            before = change_step is not None and step < change_step
            delay = (
                float(step - change_step) if change_step is not None and not before else math.nan
            )
            if before:
                false_alarms += 1
            elif change_step is not None and first_after is None:
                first_after = step
            rows.append(
                {
                    "monitor": name,
                    "kind": spec.kind,
                    "signal": spec.signal,
                    "step": step,
                    "run_length": step - previous,
                    "delay": delay,
                    "false_alarm": before,
                }
            )
            previous = step
        summary.append(
            {
                "monitor": name,
                "kind": spec.kind,
                "signal": spec.signal,
                "start_step": start_step,
                "n_alarms": len(positions),
                "false_alarms": false_alarms,
                "first_alarm_after_change": first_after,
                "delay": math.nan
                if first_after is None or change_step is None
                else float(first_after - change_step),
            }
        )
    columns = ["monitor", "kind", "signal", "step", "run_length", "delay", "false_alarm"]
    return ReplayResult(
        alarms=pd.DataFrame(rows, columns=columns),
        summary=pd.DataFrame(summary),
        n_steps=n,
        change_step=change_step,
        monitors=tuple(monitor for _, monitor, _, _ in built),
    )
