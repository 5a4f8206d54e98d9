"""Page-Hinkley and ADWIN parameters from a target in-control ARL: the vectorised
simulation against the monitors themselves (same first alarms on the same data), the
achieved ARL against an independent simulation of the monitor, the explicit river
parameters as an override, the monitors.toml keys, and bad targets refused with the fix."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture.errors import InputError
from monoculture.guard import (
    Adwin,
    Monitor,
    PageHinkley,
    adwin_delta,
    alarm_run_lengths,
    load_monitors,
    monitor_from_dict,
    page_hinkley_threshold,
    replay,
)
from monoculture.guard._arl import _AdwinStreams, _draw, _PageHinkleyStreams


def _first_alarm(monitor: Monitor, values: np.ndarray) -> int:
    """Run length of the first alarm (1-based), 0 if none."""
    hits = np.flatnonzero(monitor.update_many(values))
    return int(hits[0]) + 1 if len(hits) else 0


def _first_passage(times: np.ndarray, statistic: np.ndarray, theta: float) -> np.ndarray:
    above = statistic > theta
    return np.where(above.any(axis=1), times[above.argmax(axis=1)], 0)


def test_page_hinkley_kernel_matches_the_monitor() -> None:
    # The simulation's statistic D, per stream and step, must put the first alarm at
    # threshold theta exactly where PageHinkley(threshold=theta) puts it on the same
    # values: catches an off-by-one in min_instances, a wrong sign in the fading sums or
    # a mode that watches the wrong side.
    for mode in ("both", "up", "down"):
        in_control = ("normal", 0.0, 1.0)
        streams = _PageHinkleyStreams(
            40, in_control, min_instances=30, delta=0.005, alpha=0.9999, mode=mode
        )
        times, statistic = streams.advance(np.random.default_rng(5), 3000)
        values = _draw(in_control, np.random.default_rng(5), (40, 3000))
        theta = 55.0
        expected = [_first_alarm(PageHinkley(threshold=theta, mode=mode), v) for v in values]
        np.testing.assert_array_equal(_first_passage(times, statistic, theta), expected)
        assert 5 < np.count_nonzero(expected) < 40  # some streams alarm, some do not


def test_adwin_kernel_matches_the_monitor() -> None:
    # ADWIN's simulation tests every cut from prefix sums at the bucket ends, shared by all
    # streams, and returns the -log(delta) above which a check cuts: the first check with
    # D > -log(delta) must be Adwin(delta)'s first alarm, here over several chunks (the
    # kept prefix sums must carry over), on a normal and a canary stream.
    cases = [
        (("normal", 0.0, 3.0), 0.9, {}),
        (("bernoulli", 0.5), 0.95, {}),
        (("normal", 0.0, 3.0), 0.2, {"clock": 1, "max_buckets": 2, "grace_period": 0}),
    ]
    for in_control, delta, settings in cases:
        river = {"clock": 32, "max_buckets": 5, "min_window_length": 5, "grace_period": 10}
        river.update(settings)
        streams = _AdwinStreams(30, in_control, **river)
        rng = np.random.default_rng(11)
        parts = [streams.advance(rng, 640) for _ in range(4)]
        times = np.concatenate([p[0] for p in parts])
        statistic = np.concatenate([p[1] for p in parts], axis=1)
        check = np.random.default_rng(11)
        values = np.concatenate([_draw(in_control, check, (30, 640)) for _ in range(4)], axis=1)
        mean = 0.0 if in_control[0] == "normal" else 0.5
        expected = [_first_alarm(Adwin(delta=delta, **river), v + mean) for v in values]
        np.testing.assert_array_equal(_first_passage(times, statistic, -math.log(delta)), expected)
        assert 3 < np.count_nonzero(expected) < 30


def _achieved(monitor: Monitor, draw: Callable[[int], np.ndarray], n: int) -> tuple[float, float]:
    """Mean run length and its standard error from one long in-control stream: the
    monitor restarts after each alarm, so the complete runs are independent."""
    runs = alarm_run_lengths(monitor.update_many(draw(n)))
    return float(runs.mean()), float(runs.std(ddof=1) / math.sqrt(len(runs)))


@pytest.mark.parametrize(
    ("make", "target", "draw", "n"),
    [
        # Page-Hinkley on a normal signal (the synchronisation signals) and on canaries.
        (
            lambda t: PageHinkley(mean=0.6, sd=0.15, target_arl=t),
            300,
            lambda rng, n: rng.normal(0.6, 0.15, n),
            1_500_000,
        ),
        (
            lambda t: PageHinkley(mean=0.6, sd=0.15, target_arl=t),
            1500,
            lambda rng, n: rng.normal(0.6, 0.15, n),
            4_000_000,
        ),
        (
            lambda t: PageHinkley(p0=0.1, target_arl=t, mode="down"),
            800,
            lambda rng, n: (rng.random(n) >= 0.1).astype(float),
            2_500_000,
        ),
        # ADWIN: its in-control ARL cannot go much below a few thousand on canaries.
        (
            lambda t: Adwin(mean=0.0, sd=3.0, target_arl=t),
            1500,
            lambda rng, n: rng.normal(0.0, 3.0, n),
            1_200_000,
        ),
        (
            lambda t: Adwin(p0=0.3, target_arl=t),
            5000,
            lambda rng, n: (rng.random(n) >= 0.3).astype(float),
            2_000_000,
        ),
    ],
    ids=["ph-normal-300", "ph-normal-1500", "ph-canary-800", "adwin-normal-1500", "adwin-5000"],
)
def test_achieved_in_control_arl_is_the_target(
    make: Callable[[float], Monitor],
    target: float,
    draw: Callable[[np.random.Generator, int], np.ndarray],
    n: int,
) -> None:
    # The parameter found by the library's simulation (2,000 streams, seed 0), then an
    # independent stream (another seed) through the monitor itself: the mean run length
    # is the target within 4 combined standard errors (the library's and this one's).
    # Catches a root on the wrong side, censored runs counted as alarms, or a simulation
    # of another statistic than the monitor's.
    monitor = make(target)
    assert monitor.calibration is not None
    assert monitor.calibration.arl == pytest.approx(target, rel=0.01)
    rng = np.random.default_rng(2026)
    mean, se = _achieved(monitor, lambda size: draw(rng, size), n)
    combined = math.hypot(se, monitor.calibration.standard_error)
    assert abs(mean - target) < 4 * combined, (mean, se, monitor.calibration)
    assert combined < 0.08 * target  # the check has teeth


def test_larger_target_larger_threshold_smaller_delta() -> None:
    low, high = (page_hinkley_threshold(t, mean=0.0, sd=1.0) for t in (300, 1200))
    assert low.value < high.value
    assert adwin_delta(5000, p0=0.3).value < adwin_delta(3000, p0=0.3).value
    # Standard error: sd of run lengths / sqrt(2000), about target / 45.
    assert 0.01 < high.standard_error / high.target_arl < 0.04


def test_calibration_is_cached_and_reproducible() -> None:
    first = page_hinkley_threshold(400, p0=0.2)
    assert page_hinkley_threshold(400, p0=0.2) is first  # no second simulation
    again = page_hinkley_threshold(400, p0=0.2, n_streams=2001)
    assert again.value == pytest.approx(first.value, rel=0.1)
    assert page_hinkley_threshold(400, p0=0.2, seed=1).seed == 1


def test_explicit_river_parameters_override_the_arl() -> None:
    # Given, river's parameter is used as is, with no simulation; without an in-control
    # distribution river's defaults stay (PageHinkley() is river.drift.PageHinkley()).
    ph = PageHinkley(threshold=12.0, mean=0.0, sd=1.0)
    assert ph.threshold == 12.0
    assert ph.calibration is None
    assert PageHinkley().threshold == 50.0
    assert PageHinkley().target_arl is None
    adwin = Adwin(delta=0.01, p0=0.2)
    assert adwin.delta == 0.01
    assert adwin.calibration is None
    assert Adwin().delta == 0.002


def test_saved_calibrated_monitor_restores_without_simulating() -> None:
    monitor = PageHinkley(mean=0.0, sd=1.0, target_arl=700)
    saved = json.loads(json.dumps(monitor.to_dict()))
    assert saved["params"]["target_arl"] == 700.0
    restored = monitor_from_dict(saved)
    assert isinstance(restored, PageHinkley)
    assert restored.threshold == monitor.threshold
    assert restored.calibration is None
    assert restored.params() == monitor.params()


@pytest.mark.parametrize("bad", [1, 0.5, -3, math.inf, math.nan, True, "1000"])
@pytest.mark.parametrize(
    "make",
    [
        lambda t: PageHinkley(mean=0.0, sd=1.0, target_arl=t),
        lambda t: Adwin(p0=0.2, target_arl=t),
        lambda t: page_hinkley_threshold(t, mean=0.0, sd=1.0),
        lambda t: adwin_delta(t, p0=0.2),
        lambda t: PageHinkley(threshold=5.0, target_arl=t),
    ],
    ids=["page_hinkley", "adwin", "page_hinkley_threshold", "adwin_delta", "with-threshold"],
)
def test_bad_target_is_refused_with_the_fix(make: Callable[[object], object], bad: object) -> None:
    with pytest.raises(InputError, match=r"`target_arl` .* must be a finite number > 1 \(e\.g"):
        make(bad)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: PageHinkley(target_arl=1000), "needs the signal's in-control distribution"),
        (lambda: Adwin(target_arl=5000), "give `mean` and `sd`.*or `p0`"),
        (lambda: PageHinkley(mean=0.0), "needs both `mean` and `sd`"),
        (lambda: Adwin(mean=0.0, sd=1.0, p0=0.1), "give the in-control distribution once"),
        (lambda: PageHinkley(p0=1.2), "`p0`"),
        (lambda: Adwin(sd=-1.0, mean=0.0), "`sd` must be a number > 0"),
        # Unreachable: ADWIN at delta -> 1 alarms every ~2,500 values on these canaries.
        (lambda: Adwin(p0=0.2, target_arl=500), "the lowest with delta < 1 is about"),
        (lambda: PageHinkley(mean=0, sd=1, target_arl=20), "min_instances = 30"),
        (lambda: page_hinkley_threshold(2e6, p0=0.1), "give the parameter explicitly"),
    ],
)
def test_bad_in_control_settings(make: Callable[[], object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        make()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "monitors.toml"
    path.write_text("version = 1\n" + body, encoding="utf-8")
    return path


def test_monitors_toml_sets_parameters_from_the_arl(tmp_path: Path) -> None:
    # mean/sd, p0 or reference_steps give the in-control distribution; the parameter then
    # comes from target_arl (default 1,000 for Page-Hinkley, 10,000 for ADWIN); an
    # explicit threshold or delta is river's route, used as is.
    config = load_monitors(
        _write(
            tmp_path,
            '[[monitor]]\nkind = "page_hinkley"\nsignal = "agreement"\nmean = 0.6\nsd = 0.15\n'
            "target_arl = 600\n"
            '[[monitor]]\nkind = "adwin"\nsignal = "correct"\nreference_steps = 400\n'
            '[[monitor]]\nkind = "page_hinkley"\nname = "river"\nsignal = "agreement"\n'
            "threshold = 5.0\n",
        )
    )
    rng = np.random.default_rng(3)
    n = 20_000
    stream = pd.DataFrame(
        {
            "agreement": rng.normal(0.6, 0.15, n),
            "correct": (rng.random(n) >= 0.25).astype(float),
        }
    )
    ph, adwin, river = replay(stream, config).monitors
    assert isinstance(ph, PageHinkley)
    assert isinstance(adwin, Adwin)
    assert ph.calibration is not None
    assert ph.target_arl == 600.0
    assert ph.threshold == page_hinkley_threshold(600, mean=0.6, sd=0.15).value
    # reference_steps on 0/1 values: canaries, p0 from the first 400.
    assert adwin.p0 == pytest.approx(1 - stream["correct"][:400].mean())
    assert adwin.target_arl == 10_000.0
    assert adwin.calibration is not None
    assert isinstance(river, PageHinkley)
    assert river.threshold == 5.0
    assert river.calibration is None


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('kind = "page_hinkley"\nsignal = "x"\nthreshold = 5\ntarget_arl = 900\n', "not both"),
        ('kind = "adwin"\nsignal = "x"\ntarget_arl = 9000\n', "needs the in-control"),
        ('kind = "adwin"\nsignal = "x"\nmean = 0.5\n', "both `mean` and `sd`"),
        ('kind = "page_hinkley"\nsignal = "x"\np0 = 0.1\nreference_steps = 50\n', "one way"),
        ('kind = "page_hinkley"\nsignal = "x"\nmean = 0\nsd = 1\ntarget_arl = 1\n', "greater"),
    ],
)
def test_bad_monitors_toml_keys(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        load_monitors(_write(tmp_path, "[[monitor]]\n" + body))
