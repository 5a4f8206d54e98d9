"""`undefined_messages`: undefined figures become notes; other warnings are not swallowed."""

from __future__ import annotations

import warnings

import pytest

from monoculture.errors import UndefinedMetricWarning, undefined_messages


def test_other_warnings_pass_through_and_undefined_ones_are_collected_in_order() -> None:
    # Catches a collector that swallows every warning (a numpy or pandas warning would then
    # vanish from the run and from the warnings-as-errors test suite).
    def mixed() -> list[str]:
        with undefined_messages() as notes:
            warnings.warn("first NaN", UndefinedMetricWarning, stacklevel=1)
            warnings.warn("not ours", UserWarning, stacklevel=1)
            warnings.warn("first NaN", UndefinedMetricWarning, stacklevel=1)  # "always": kept
        return notes

    with pytest.warns(UserWarning, match="not ours"):
        notes = mixed()
    assert notes == ["first NaN", "first NaN"]
