"""What every log reader shares: cells gathered per (item, agent), repetitions (Inspect epochs,
HELM train trials) reduced by one documented rule, and the hand-over to the long-table reader
(`monoculture.io.responses_from_long`), which checks every rule of `Responses`.

The repetition rule
-------------------
A log may score one agent on one item several times (Inspect epochs, HELM train trials).
The cell gets:

* ``correct`` = 1 when more than half of its repetitions are correct, else 0 (a tie is 0:
  the agent is not reliably right on the item);
* ``answer`` = the most frequent answer among the repetitions (ties go to the one seen
  first, in epoch / trial order);
* the attributes ``repetitions`` (how many) and ``repetition_accuracy`` (the share
  correct), so the spread is not lost (an agent attribute where constant per agent, as
  epochs usually are, else a cell attribute).

Scores that are not plain right/wrong (``"P"`` partial, a number strictly between 0 and 1)
count as wrong: only full credit is correct. The number of such scores is noted in the
input summary.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monoculture._labels import (
    AnswerNormalization,
    choose_normalization,
    natural_order,
    normalize_labels,
)
from monoculture.errors import InputError
from monoculture.responses import InputSummary, Responses

__all__ = ["CellTable", "paused_gc", "score_of"]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader piles up parsed records: they hold
    no reference cycles, yet the collector would scan them again and again as they grow
    (quadratic in the records read)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_LETTER_SCORES = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def score_of(value: object, *, where: str) -> float:
    """A score as a number in [0, 1]: ``"C"``/``"I"``/``"P"``/``"N"`` (Inspect's correct,
    incorrect, partial, no answer), booleans, numbers, or numeric text.

    Raises:
        InputError: for anything else, naming ``where``.

    Example:
        >>> score_of("C", where="x"), score_of(False, where="x"), score_of("0.5", where="x")
        (1.0, 0.0, 0.5)
    """
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.upper() in _LETTER_SCORES:
            return _LETTER_SCORES[text.upper()]
        try:
            number = float(text)
        except ValueError:
            raise InputError(
                f"{where}: the score {value!r} is neither C/I/P/N, a boolean nor a number; "
                "choose a scorer whose values say right or wrong (--scorer)."
            ) from None
    else:
        raise InputError(
            f"{where}: the score {value!r} is a {type(value).__name__}, not a right/wrong "
            "value; for a scorer with several values name one as --scorer NAME:KEY."
        )
    if not 0.0 <= number <= 1.0:
        raise InputError(
            f"{where}: the score {number:g} lies outside [0, 1]; choose a scorer or metric "
            "whose values say right (1) or wrong (0)."
        )
    return number


@dataclass
class CellTable:
    """Scored repetitions of (item, agent) cells, in the order read.

    ``add`` one scored repetition at a time (or extend the lists directly); ``responses``
    reduces repetitions by the module's rule and builds the `Responses` through the
    long-table reader.
    """

    source: str
    items: list[Any] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)
    probs: list[list[float] | None] = field(default_factory=list)
    gold: dict[Any, str | None] = field(default_factory=dict)
    item_attrs: dict[Any, dict[str, Any]] = field(default_factory=dict)
    agent_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows_read: int = 0
    left_out: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        item: Any,
        agent: str,
        score: float,
        answer: str | None = None,
        *,
        probs: list[float] | None = None,
    ) -> None:
        self.items.append(item)
        self.agents.append(agent)
        self.scores.append(score)
        self.answers.append(answer)
        self.probs.append(probs)

    def responses(
        self,
        *,
        answer_normalization: AnswerNormalization = "auto",
        strict_scoring: bool = False,
    ) -> Responses:
        if not self.scores:
            raise InputError(
                f"{self.source}: no scored results were found. Check that the logs finished "
                "and that the scorer or metric chosen exists in them."
            )
        scores = np.asarray(self.scores, dtype=np.float64)
        partial = int(((scores > 0) & (scores < 1)).sum())
        cells = pd.DataFrame(
            {
                "item_id": pd.Series(self.items, dtype=object),
                "agent": pd.Series(self.agents, dtype=object),
                "right": (scores >= 1.0).astype(np.int64),
                "answer": pd.Series(self.answers, dtype=object),
            }
        )
        cells["item_code"] = pd.factorize(cells["item_id"].map(_key_text))[0]
        cells["agent_code"] = pd.factorize(cells["agent"])[0]
        first = ~cells.duplicated(["item_code", "agent_code"])
        repeated = not bool(first.all())
        if repeated:
            table = _reduce_repetitions(cells, first.to_numpy())
        else:
            table = cells[["item_id", "agent", "answer"]].copy()
            table["correct"] = cells["right"].to_numpy()
        keep = np.flatnonzero(first.to_numpy())
        if partial:
            self.notes.append(
                f"{partial} score(s) gave partial credit; only full credit counts as correct."
            )
        if repeated:
            self.notes.append(
                "repetitions (epochs or train trials) were reduced per cell: correct when "
                "more than half are correct, the answer most often given; see the attributes "
                "'repetitions' and 'repetition_accuracy'."
            )
        has_probs = any(self.probs[k] is not None for k in keep)
        return self._build(
            table.reset_index(drop=True),
            [self.probs[k] for k in keep] if has_probs else None,
            "none" if has_probs else answer_normalization,
            strict_scoring=strict_scoring,
        )

    def _build(
        self,
        table: pd.DataFrame,
        probs: list[list[float] | None] | None,
        requested: AnswerNormalization,
        *,
        strict_scoring: bool,
    ) -> Responses:
        """Dense arrays from one row per cell, handed to `Responses.from_arrays` (which checks
        them): vectorised, since a log set can hold millions of cells."""
        item_codes, item_first = _codes(table["item_id"].map(_key_text))
        agent_codes, agent_ids = pd.factorize(table["agent"])
        item_ids = _display(table["item_id"].to_numpy()[item_first])
        shape = (len(item_first), len(agent_ids))
        grid = (item_codes, agent_codes)
        correct = np.full(shape, np.nan)
        correct[grid] = table["correct"].to_numpy(dtype=np.float64)
        answers_text: pd.Series | None = table["answer"] if "answer" in table.columns else None
        if answers_text is not None and answers_text.isna().all():
            answers_text = None
        gold_values = [self.gold.get(item) for item in table["item_id"].to_numpy()[item_first]]
        gold_text: pd.Series | None = None
        if any(label is not None for label in gold_values):
            gold_text = pd.Series(gold_values, dtype=object)
        mode: str | None = None
        labels: list[str] = []
        answers = gold = None
        if answers_text is not None or gold_text is not None:
            mode, answers_text, gold_text = self._normalised(requested, answers_text, gold_text)
            seen = [
                str(v)
                for series in (answers_text, gold_text)
                if series is not None
                for v in pd.unique(series.dropna())
            ]
            if probs is not None:
                width = max(len(row) for row in probs if row is not None)
                indexes = [int(v) + 1 for v in seen if v.isdigit()]
                labels = [str(k) for k in range(max([width, *indexes]))]
            else:
                labels = natural_order(seen)
            position = {label: k for k, label in enumerate(labels)}
            if answers_text is not None:
                answers = np.full(shape, -1, dtype=np.int64)
                answers[grid] = answers_text.map(position).fillna(-1).to_numpy(dtype=np.int64)
            if gold_text is not None:
                gold = gold_text.map(position).fillna(-1).to_numpy(dtype=np.int64)
        cube = None
        if probs is not None:
            width = len(labels)
            rows = np.zeros((len(table), width))
            for k, row in enumerate(probs):
                if row is not None:
                    rows[k, : len(row)] = row
            cube = np.full((*shape, width), np.nan)
            cube[grid] = rows
        agent_attrs = pd.DataFrame(
            [self.agent_attrs.get(str(agent), {}) for agent in agent_ids],
        )
        cell_attrs: dict[str, np.ndarray] = {}
        for name in ("repetitions", "repetition_accuracy"):
            if name not in table.columns:
                continue
            values = table[name].to_numpy()
            per_agent = pd.Series(values).groupby(agent_codes).nunique()
            if (per_agent <= 1).all():
                agent_attrs[name] = pd.Series(values).groupby(agent_codes).first().to_numpy()
            else:
                matrix = np.full(shape, None, dtype=object)
                matrix[grid] = values
                cell_attrs[name] = matrix
        item_attrs = pd.DataFrame(
            [self.item_attrs.get(item, {}) for item in table["item_id"].to_numpy()[item_first]]
        )
        if probs is not None and "n_options" not in item_attrs.columns:
            lengths = np.zeros(len(table), dtype=np.int64)
            for k, row in enumerate(probs):
                lengths[k] = 0 if row is None else len(row)
            item_attrs["n_options"] = pd.Series(lengths).groupby(item_codes).max().to_numpy()
        used = int(np.isfinite(correct).sum())
        return Responses.from_arrays(
            correct,
            answers=answers,
            gold=gold,
            probs=cube,
            agents=[str(a) for a in agent_ids],
            items=item_ids,
            labels=labels or None,
            item_attrs=item_attrs if len(item_attrs.columns) else None,
            agent_attrs=agent_attrs if len(agent_attrs.columns) else None,
            cell_attrs=cell_attrs,
            input_summary=InputSummary(
                self.source,
                max(self.rows_read, used),
                used,
                dict(self.left_out),
                tuple(self.notes),
                mode,
            ),
            strict_scoring=strict_scoring,
        )

    def _normalised(
        self,
        requested: AnswerNormalization,
        answers: pd.Series | None,
        gold: pd.Series | None,
    ) -> tuple[str, pd.Series | None, pd.Series | None]:
        if requested == "auto":
            uniques = [
                str(v)
                for series in (answers, gold)
                if series is not None
                for v in pd.unique(series.dropna())
            ]
            mode, why = choose_normalization(uniques)
            if mode != "none":
                self.notes.append(f"answers compared with gold labels as {mode!r} (auto: {why})")
        else:
            mode = requested

        def apply(series: pd.Series | None) -> pd.Series | None:
            if series is None:
                return None
            if mode == "none":
                return series.where(series.notna(), None)
            uniques = pd.unique(series.dropna())
            mapped = normalize_labels(pd.Series(uniques, dtype=object), mode)
            return series.map(dict(zip(uniques, mapped, strict=True)))

        return mode, apply(answers), apply(gold)


def _codes(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``keys`` in order of first appearance, and the row of each first appearance."""
    codes, _ = pd.factorize(keys)
    first = np.unique(codes, return_index=True)[1]
    return codes, first


def _display(values: np.ndarray) -> np.ndarray:
    """Ids as given: numbers stay numbers; a mix stays a mix (an object array)."""
    kinds = {type(v) for v in values.tolist()}
    if kinds <= {int}:
        return np.asarray(values.tolist(), dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = values.tolist()
    return out


def _key_text(value: object) -> str:
    # Ids 7 and "7" are one item, as in the long-table reader.
    return str(value)


def _reduce_repetitions(cells: pd.DataFrame, first: np.ndarray) -> pd.DataFrame:
    """One row per (item, agent): the majority verdict, the most frequent answer (ties: the
    one seen first), and the repetition counts."""
    groups = cells.groupby(["item_code", "agent_code"], sort=False)
    n = groups["right"].transform("size").to_numpy()
    hits = groups["right"].transform("sum").to_numpy()
    cells = cells.assign(n=n, hits=hits, order=np.arange(len(cells)))
    with_answer = cells[cells["answer"].notna()]
    counts = with_answer.groupby(["item_code", "agent_code", "answer"], sort=False).agg(
        count=("order", "size"), first=("order", "min")
    )
    counts = counts.reset_index().sort_values(["count", "first"], ascending=[False, True])
    best = counts.drop_duplicates(["item_code", "agent_code"]).set_index(
        ["item_code", "agent_code"]
    )["answer"]
    table = cells[first].copy()
    index = pd.MultiIndex.from_arrays([table["item_code"], table["agent_code"]])
    table["answer"] = best.reindex(index).to_numpy()
    table["correct"] = (table["hits"] * 2 > table["n"]).astype(np.int64)
    table["repetitions"] = table["n"]
    table["repetition_accuracy"] = table["hits"] / table["n"]
    return table[["item_id", "agent", "answer", "correct", "repetitions", "repetition_accuracy"]]
