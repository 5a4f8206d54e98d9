"""Fail loudly: a calibrated gate that answers or abstains with a guarantee on the rate of
quiet failures, and monitors that sound when a stream of swarm decisions drifts or
synchronises.

Gate: `score_items` (or `score_decisions`, `score_array`) -> `calibrate_gate` ->
`apply_gate`; `Gate.save` / `load_gate` for ``gate.json``. Monitors: `Cusum`,
`BernoulliCusum`, `SynchronisationAlarm`, `PageHinkley`, `Adwin` (``update``,
``update_many``, ``to_dict`` / ``from_dict``), `CanaryMixer`; thresholds from a target
in-control ARL (`cusum_threshold`, `bernoulli_cusum_threshold`; by simulation
`page_hinkley_threshold`, `adwin_delta`); `replay` a stream
through the monitors of a ``monitors.toml`` (`load_monitors`). See docs/guard.md.
"""

from monoculture.guard._arl import (
    SimulatedThreshold,
    adwin_delta,
    bernoulli_cusum_arl,
    bernoulli_cusum_threshold,
    cusum_arl,
    cusum_threshold,
    page_hinkley_threshold,
)
from monoculture.guard._gate import (
    Gate,
    GateResult,
    apply_gate,
    calibrate_gate,
    gate_thresholds,
    learn_then_test_p_values,
    load_gate,
    minimum_calibration_items,
)
from monoculture.guard._monitors import (
    MONITORS,
    Adwin,
    BernoulliCusum,
    CanaryMixer,
    Cusum,
    Monitor,
    PageHinkley,
    SynchronisationAlarm,
    alarm_run_lengths,
    monitor_from_dict,
)
from monoculture.guard._replay import MonitorsConfig, ReplayResult, load_monitors, replay
from monoculture.guard._scores import (
    SCORES,
    ItemScores,
    decision_stream,
    score_array,
    score_decisions,
    score_items,
)

__all__ = [
    "MONITORS",
    "SCORES",
    "Adwin",
    "BernoulliCusum",
    "CanaryMixer",
    "Cusum",
    "Gate",
    "GateResult",
    "ItemScores",
    "Monitor",
    "MonitorsConfig",
    "PageHinkley",
    "ReplayResult",
    "SimulatedThreshold",
    "SynchronisationAlarm",
    "adwin_delta",
    "alarm_run_lengths",
    "apply_gate",
    "bernoulli_cusum_arl",
    "bernoulli_cusum_threshold",
    "calibrate_gate",
    "cusum_arl",
    "cusum_threshold",
    "decision_stream",
    "gate_thresholds",
    "learn_then_test_p_values",
    "load_gate",
    "load_monitors",
    "minimum_calibration_items",
    "monitor_from_dict",
    "page_hinkley_threshold",
    "replay",
    "score_array",
    "score_decisions",
    "score_items",
]
