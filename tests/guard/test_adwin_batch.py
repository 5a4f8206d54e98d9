"""ADWIN's batch path (plain-float inserts, the cut tests of many checks at once in numpy)
against `update` one value at a time and against river, over settings the default-only
tests do not reach: every check (clock 1), the smallest rows (max_buckets 2), no grace
period, long minimum windows, values on other scales, and restored mid-run states."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monoculture.guard import Adwin, monitor_from_dict

SETTINGS = [
    {"clock": 1, "max_buckets": 2, "grace_period": 0, "delta": 0.05},
    {"clock": 7, "max_buckets": 3, "min_window_length": 1, "delta": 0.3},
    {"clock": 32, "max_buckets": 5, "min_window_length": 40, "delta": 0.5},
    {"clock": 5, "max_buckets": 9, "grace_period": 100, "delta": 0.01},
]


def _stream(seed: int) -> np.ndarray:
    """Shifts in mean and in scale, ties (rounded values) and a stretch of constants."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.normal(0.0, 1.0, 3000),
        rng.normal(0.8, 1.0, 1500),
        np.round(rng.normal(0.0, 5.0, 2000)),
        np.full(300, 2.5),
        (rng.random(3000) < 0.3).astype(float),
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("settings", SETTINGS, ids=[str(s) for s in SETTINGS])
def test_batch_equals_update_and_river(settings: dict) -> None:  # type: ignore[type-arg]
    # Same alarms and the same saved state (every bucket's total and variance, bit for
    # bit) as update() in a loop, and the same alarms as river's ADWIN. Catches a cut test
    # that rounds differently from _detect, an inlined merge that skips a cascade, or a
    # block that runs past an alarm without restarting there.
    from river import drift

    data = _stream(sum(settings.values()).__hash__() % 1000)
    batch, single = Adwin(**settings), Adwin(**settings)
    alarms = batch.update_many(data)
    np.testing.assert_array_equal(alarms, [single.update(v) for v in data])
    assert batch.to_dict() == single.to_dict()
    river = drift.ADWIN(**settings)
    expected = []
    for value in data:
        river.update(float(value))
        expected.append(river.drift_detected)
    assert alarms.sum() > 2
    np.testing.assert_array_equal(alarms, expected)


@pytest.mark.parametrize("cut", [1, 33, 4099, 7777])
def test_batch_from_a_restored_state(cut: int) -> None:
    # Restored anywhere (mid-block, mid-run), the batch path continues exactly.
    data = _stream(4)
    whole = Adwin(delta=0.1, clock=4).update_many(data)
    first = Adwin(delta=0.1, clock=4)
    head = first.update_many(data[:cut])
    restored = monitor_from_dict(json.loads(json.dumps(first.to_dict())))
    tail = restored.update_many(data[cut:])
    np.testing.assert_array_equal(np.concatenate([head, tail]), whole)
