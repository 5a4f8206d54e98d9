"""Monitors: batch equals one-at-a-time, save/restore mid-stream, river as the oracle for
Page-Hinkley and ADWIN, and detection delay / false alarms on simulated swarm streams
next to always-alarm and never-alarm baselines."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from monoculture.errors import InputError
from monoculture.guard import (
    Adwin,
    BernoulliCusum,
    CanaryMixer,
    Cusum,
    Monitor,
    PageHinkley,
    SynchronisationAlarm,
    decision_stream,
    monitor_from_dict,
)
from monoculture.simulate import ClassificationConfig, run_classification

RNG = np.random.default_rng(2024)
NORMAL = np.concatenate([RNG.normal(0, 1, 30_000), RNG.normal(0.7, 1, 5_000)])
BINARY = (RNG.random(35_000) < np.r_[np.full(20_000, 0.9), np.full(15_000, 0.75)]).astype(float)

FACTORIES: list[tuple[str, Callable[[], Monitor], np.ndarray]] = [
    ("cusum", lambda: Cusum(h=4.0), NORMAL),
    ("cusum-upper", lambda: Cusum(h=3.0, k=0.25, side="upper"), NORMAL),
    ("sync-entropy", lambda: SynchronisationAlarm(signal="entropy", mean=0, sd=1, h=4), NORMAL),
    ("bernoulli", lambda: BernoulliCusum(p0=0.1, p1=0.2, h=3.0), BINARY),
    ("page-hinkley", lambda: PageHinkley(threshold=15.0), NORMAL),
    ("adwin", lambda: Adwin(), NORMAL),
    ("adwin-binary", lambda: Adwin(delta=0.01), BINARY),
    # Parameters from a target ARL: the saved state must restore them without simulating.
    ("page-hinkley-arl", lambda: PageHinkley(mean=0.0, sd=1.0, target_arl=300), NORMAL),
    ("adwin-arl", lambda: Adwin(p0=0.3, target_arl=5000), BINARY),
]


@pytest.mark.parametrize(("name", "make", "data"), FACTORIES, ids=[f[0] for f in FACTORIES])
def test_batch_equals_one_at_a_time(
    name: str, make: Callable[[], Monitor], data: np.ndarray
) -> None:
    # The vectorised path (cumulative sums, windows restarted at each alarm) must give
    # exactly the alarms and state of update() in a loop: catches an off-by-one at window
    # edges, a missed restart after an alarm, or rounding that differs between the paths.
    batch, single = make(), make()
    alarms = batch.update_many(data)
    one_by_one = np.array([single.update(v) for v in data])
    assert alarms.sum() > 0
    np.testing.assert_array_equal(alarms, one_by_one)
    assert batch.to_dict() == single.to_dict()


@pytest.mark.parametrize(("name", "make", "data"), FACTORIES, ids=[f[0] for f in FACTORIES])
def test_restore_mid_stream_continues_exactly(
    name: str, make: Callable[[], Monitor], data: np.ndarray
) -> None:
    # Save after 12,345 values through JSON, restore, continue: the same alarms as one
    # uninterrupted run. Catches a state field left out of to_dict.
    whole = make().update_many(data)
    first = make()
    head = first.update_many(data[:12_345])
    restored = monitor_from_dict(json.loads(json.dumps(first.to_dict())))
    tail = restored.update_many(data[12_345:])
    np.testing.assert_array_equal(np.concatenate([head, tail]), whole)


def test_nan_values_are_skipped() -> None:
    # Non-canary decisions carry no correctness: NaN is skipped, not treated as 0.
    data = BINARY[:5000].copy()
    with_gaps = np.insert(data, np.arange(0, 5000, 3), np.nan)
    plain = BernoulliCusum(p0=0.1, p1=0.3, h=2.0).update_many(data)
    gapped = BernoulliCusum(p0=0.1, p1=0.3, h=2.0).update_many(with_gaps)
    assert plain.sum() == gapped.sum()
    assert not gapped[np.isnan(with_gaps)].any()
    assert BernoulliCusum(p0=0.1, p1=0.3, h=2.0).update(float("nan")) is False


def _river_alarms(detector: object, data: np.ndarray) -> np.ndarray:
    out = []
    for value in data:
        detector.update(float(value))  # type: ignore[attr-defined]
        out.append(detector.drift_detected)  # type: ignore[attr-defined]
    return np.array(out)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {}),  # without an in-control distribution, river's defaults
        ({"threshold": 50.0}, {"threshold": 50.0}),
        ({"threshold": 10.0, "mode": "up"}, {"threshold": 10.0, "mode": "up"}),
        (
            {"threshold": 8.0, "alpha": 0.99, "min_instances": 10},
            {"threshold": 8.0, "alpha": 0.99, "min_instances": 10},
        ),
    ],
)
def test_page_hinkley_same_alarms_as_river(ours: dict, theirs: dict) -> None:  # type: ignore[type-arg]
    # river 0.26's PageHinkley is the oracle: same alarms at the same positions. (Its mean
    # is incremental, ours total/n; they differ in the last bits only.)
    from river import drift

    for data in (NORMAL, BINARY):
        expected = _river_alarms(drift.PageHinkley(**theirs), data)
        got = PageHinkley(**ours).update_many(data)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("delta", [0.002, 0.05])
def test_adwin_same_alarms_as_river(delta: float) -> None:
    # river 0.26's ADWIN (Rust) is the oracle, on a mean shift and on a Bernoulli stream.
    from river import drift

    for data in (NORMAL[25_000:], BINARY[10_000:30_000]):
        expected = _river_alarms(drift.ADWIN(delta=delta), data)
        got = Adwin(delta=delta).update_many(data)
        assert expected.sum() > 0
        np.testing.assert_array_equal(got, expected)


def _segment(seed: int, n: int, accuracy: float, homogeneity: float) -> pd.DataFrame:
    config = ClassificationConfig(
        n_agents=15,
        n_steps=1,
        items_per_step=n,
        accuracy=accuracy,
        homogeneity=homogeneity,
        seed=seed,
    )
    return decision_stream(run_classification(config).responses[0][0])


def _swarm_stream(seed: int, stable: int, shifted: int) -> pd.DataFrame:
    """A swarm's decisions: `stable` in control (accuracy 0.7, homogeneity 0.3), then a
    coherent drift (accuracy 0.55, homogeneity 0.8: more agreement, more wrong)."""
    parts = [_segment(seed, stable, 0.7, 0.3), _segment(seed + 1, shifted, 0.55, 0.8)]
    stream = pd.concat(parts, ignore_index=True)
    stream["step"] = np.arange(len(stream))
    return stream


def test_detection_delay_and_false_alarms_against_baselines() -> None:
    # On 12 simulated swarm streams (2,000 stable decisions, then 1,000 drifted), each
    # monitor is scored by false alarms per stable period and detection delay, next to
    # the two trivial detectors: always-alarm (delay 0, 2,000 false alarms) and
    # never-alarm (no false alarm, never detects). A monitor must be far from both:
    # catches a monitor that looks good only by firing constantly or never.
    stable, shifted, n_streams = 2000, 1000, 12
    reference = _segment(100, 2000, 0.7, 0.3)  # an independent in-control period
    a_mean, a_sd = reference["agreement"].mean(), reference["agreement"].std()
    e_mean, e_sd = reference["entropy"].mean(), reference["entropy"].std()
    p0 = 1.0 - reference["correct"].mean()
    # Thresholds from a target in-control ARL of 2,000 decisions, computed once (ADWIN:
    # 5,000: it cannot alarm as often as every 2,000 canaries in control).
    h_canary = BernoulliCusum(p0=p0, p1=min(0.95, 1.6 * p0), target_arl=2000).h
    h_sync = SynchronisationAlarm(mean=0.0, sd=1.0, target_arl=2000).h
    ph_threshold = PageHinkley(mean=a_mean, sd=a_sd, target_arl=2000).threshold
    adwin_delta = Adwin(p0=p0, target_arl=5000).delta
    makers: dict[str, Callable[[], Monitor]] = {
        "bernoulli_cusum": lambda: BernoulliCusum(p0=p0, p1=min(0.95, 1.6 * p0), h=h_canary),
        "sync_agreement": lambda: SynchronisationAlarm(
            signal="agreement", mean=a_mean, sd=a_sd, h=h_sync
        ),
        "sync_entropy": lambda: SynchronisationAlarm(
            signal="entropy", mean=e_mean, sd=e_sd, h=h_sync
        ),
        "page_hinkley": lambda: PageHinkley(threshold=ph_threshold),
        "adwin": lambda: Adwin(delta=adwin_delta),
    }
    signals = {
        "bernoulli_cusum": "correct",
        "sync_agreement": "agreement",
        "sync_entropy": "entropy",
        "page_hinkley": "agreement",
        "adwin": "correct",
    }
    false_alarms = {name: [] for name in makers}  # type: ignore[var-annotated]
    delays = {name: [] for name in makers}  # type: ignore[var-annotated]
    for seed in range(n_streams):
        stream = _swarm_stream(seed * 7, stable, shifted)
        for name, make in makers.items():
            alarms = make().update_many(stream[signals[name]].to_numpy())
            false_alarms[name].append(int(alarms[:stable].sum()))
            after = np.flatnonzero(alarms[stable:])
            delays[name].append(float(after[0]) if len(after) else np.inf)
    always = {"false_alarms": stable, "delay": 0.0}
    never = {"false_alarms": 0, "delay": np.inf}
    for name in makers:
        mean_false = float(np.mean(false_alarms[name]))
        detected = np.isfinite(delays[name]).mean()
        median_delay = float(np.median(delays[name]))
        assert mean_false < 0.01 * always["false_alarms"], (name, mean_false)
        assert detected > 0.9, (name, detected)
        assert median_delay < never["delay"], name
        assert median_delay < 300, (name, median_delay)


def test_canary_mixer_is_reproducible_and_restorable() -> None:
    # next() and draw() consume the generator alike, and the state survives JSON.
    a, b = CanaryMixer(0.2, seed=7), CanaryMixer(0.2, seed=7)
    one = np.array([a.next() for _ in range(1000)])
    np.testing.assert_array_equal(one, b.draw(1000))
    restored = CanaryMixer.from_dict(json.loads(json.dumps(a.to_dict())))
    np.testing.assert_array_equal(restored.draw(500), a.draw(500))
    plan = CanaryMixer(0.25, seed=1).mix(list(range(4000)), ["c1", "c2", "c3"])
    assert (plan.loc[~plan["is_canary"], "item_id"].tolist()) == list(range(4000))
    assert plan["is_canary"].mean() == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Cusum(sd=0.0, h=5), "`sd` must be a number > 0"),
        (lambda: Cusum(side="sideways"), "`side`"),  # type: ignore[arg-type]
        (lambda: BernoulliCusum(p0=0.3, p1=0.2, h=3), "must exceed"),
        (lambda: PageHinkley(mode="left"), "`mode`"),  # type: ignore[arg-type]
        (lambda: Adwin(delta=2.0), "`delta`"),
        (lambda: SynchronisationAlarm(signal="margin", mean=0, sd=1), "`signal`"),  # type: ignore[arg-type]
        (lambda: Cusum(target_arl=0.5), "target_arl"),
        (lambda: PageHinkley(mean=0, sd=1, target_arl=0.5), "finite number > 1"),
        (lambda: Adwin(p0=0.1, target_arl=float("nan")), "finite number > 1"),
        (lambda: BernoulliCusum(p0=0.1, p1=0.2, h=2).update(0.5), "canary correctness"),
        (lambda: monitor_from_dict({"kind": "spc"}), "unknown monitor kind"),
    ],
)
def test_bad_monitor_settings(make: Callable[[], object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        make()
