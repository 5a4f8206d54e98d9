"""Normalising answer labels read from tables into strings, and ordering a vocabulary."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Literal

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


AnswerNormalization = Literal["auto", "none", "text", "number"]
"""How answers and gold labels are compared: as written (stripped), as text (case, spacing
and quotes folded), or as numbers (``75.00`` = ``75``, ``2,125`` = ``2125``)."""

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SHORT_LABEL = re.compile(r"^[A-Za-z0-9]{1,3}$")


def _as_number(text: str) -> str | None:
    """The canonical text of a number (``"2,125"`` -> ``"2125"``, ``"75.00"`` -> ``"75"``),
    or ``None`` when ``text`` is not one."""
    candidate = text.strip()
    if _THOUSANDS.match(candidate):
        candidate = candidate.replace(",", "")
    try:
        value = float(candidate)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".12g")


def _as_text(text: str) -> str:
    folded = " ".join(text.casefold().split()).replace('"', "'")
    return folded.strip("'").rstrip(".").strip()


def normalize_labels(values: pd.Series, mode: Literal["none", "text", "number"]) -> pd.Series:
    """``values`` (strings or ``None``) compared under ``mode``; numbers fall back to text
    normalization when a value is not a number."""
    if mode == "none":
        return values

    def one(value: object) -> object:
        if value is None:
            return None
        text = str(value)
        if mode == "number":
            number = _as_number(text)
            if number is not None:
                return number
        return _as_text(text)

    return pd.Series([one(v) for v in values], index=values.index, dtype=object)


def choose_normalization(values: Iterable[str]) -> tuple[Literal["none", "text", "number"], str]:
    """The comparison ``auto`` picks from the labels themselves, and why.

    ``number`` when at least 95 % of the labels are numbers; ``none`` when every label is a
    short token of at most 3 letters or digits (option letters, yes/no); ``text`` otherwise.
    """
    labels = [label for label in values if label is not None]
    if not labels:
        return "none", "no labels"
    numbers = sum(_as_number(label) is not None for label in labels)
    if numbers >= 0.95 * len(labels):
        return "number", f"{numbers / len(labels):.0%} of answers and gold labels are numbers"
    if all(_SHORT_LABEL.match(label) for label in labels):
        return "none", "every answer and gold label is a short token (e.g. an option letter)"
    return "text", "answers are free text"
