"""Normalising answer labels read from tables into strings, and ordering a vocabulary."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def labels_as_strings(values: pd.Series) -> pd.Series:
    """Answers or gold labels as stripped strings, with ``None`` where there is no label.

    Floats that hold whole numbers (CSV readers turn an integer column with gaps into
    float) are written without the ``.0`` so that ``3`` and ``3.0`` are the same label.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            values = values.astype("Int64")
    as_text = values.astype("string").str.strip()
    present = (as_text.notna() & (as_text != "")).to_numpy(dtype=bool)
    out = as_text.astype(object).to_numpy().copy()
    out[~present] = None
    return pd.Series(out, index=values.index, dtype=object)


def natural_order(labels: Iterable[str]) -> list[str]:
    """Integers in numeric order when every label is an integer, otherwise sorted text."""
    unique = sorted(set(labels))
    if all(_is_int(label) for label in unique):
        return sorted(unique, key=int)
    return unique


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def positional_labels(labels: Iterable[str], n_options: int) -> list[str] | None:
    """The vocabulary in which position k is option k, when the labels say so.

    Single capital letters map ``A`` -> 0, ``B`` -> 1, ...; non-negative integers map to
    themselves. Returns ``None`` when the labels follow neither convention.
    """
    present = set(labels)
    if all(len(label) == 1 and "A" <= label <= "Z" for label in present):
        size = max([n_options, *(ord(label) - 64 for label in present)])
        return [chr(65 + k) for k in range(size)]
    if all(label.isdigit() for label in present):
        size = max([n_options, *(int(label) + 1 for label in present)])
        return [str(k) for k in range(size)]
    return None
