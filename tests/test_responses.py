"""`Responses`: the one validating constructor, immutability, attributes."""

from __future__ import annotations

import numpy as np
import pytest

from monoculture import InputError, Responses
from tests.conftest import LONG


def test_arrays_are_read_only() -> None:
    r = Responses.from_long(LONG)
    with pytest.raises(ValueError, match="read-only"):
        r.correct[0, 0] = 0


def test_from_arrays_checks_shapes_and_values() -> None:
    with pytest.raises(InputError, match="only 0, 1 or NaN"):
        Responses.from_arrays(correct=[[0, 2], [1, 0]])
    with pytest.raises(InputError, match="contradicts"):
        Responses.from_arrays(
            correct=[[1, 0]], answers=np.array([[1, 1]]), gold=np.array([1]), strict_scoring=True
        )
    lenient = Responses.from_arrays(
        correct=[[1, 0]], answers=np.array([[1, 1]]), gold=np.array([1])
    )
    assert lenient.correct.tolist() == [[1, 0]]  # `correct` is the authority
    assert "1 scored cell(s)" in " ".join(lenient.input_summary.notes)
    with pytest.raises(InputError, match="at least 2 agents"):
        Responses.from_arrays(correct=[[1], [0]])
    r = Responses.from_arrays(correct=[[1, np.nan], [0, 1]])
    assert r.observed.tolist() == [[True, False], [True, True]]
