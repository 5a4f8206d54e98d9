"""`Responses`: item-level results of many agents, the one data structure of monoculture.

Everything that produces answers (files, experiments, simulations) produces a `Responses`;
every metric consumes one. It is built once, validated at the boundary, and immutable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from monoculture._labels import labels_as_strings, natural_order, positional_labels
from monoculture.errors import InputError

__all__ = ["InputSummary", "Responses"]

_PROB_TOLERANCE = 1e-6
_SHOW_ROWS = 5


@dataclass(frozen=True)
class InputSummary:
    """What was read and what was used, so nothing is left out silently.

    Attributes:
        source: where the data came from (a file path or ``"<arrays>"``).
        rows_read: rows in the input table (cells for array input).
        rows_used: rows that became an observed (item, agent) cell.
        left_out: reason -> number of rows not used for that reason.
        notes: other remarks on the input (attributes, vocabulary, unmatched agents).
    """

    source: str
    rows_read: int
    rows_used: int
    left_out: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "left_out": dict(self.left_out),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class Responses:
    """Results of ``n_agents`` agents on ``n_items`` items, as dense arrays.

    Attributes:
        item_ids: ``(n_items,)`` item identifiers, in order of first appearance.
        agents: ``(n_agents,)`` agent names.
        correct: ``(n_items, n_agents)`` int8, 1 = right, 0 = wrong (0 where not observed).
        observed: ``(n_items, n_agents)`` bool, True where the agent was scored on the item.
        answers: ``(n_items, n_agents)`` int32 codes into ``labels``; -1 = no answer (not
            observed, or observed but unparsed). ``None`` when only correctness is known.
        labels: the answer vocabulary (strings); empty when ``answers`` is ``None``.
        gold: ``(n_items,)`` int32 codes into ``labels``; -1 where unknown; or ``None``.
        probs: ``(n_items, n_agents, n_options)`` float64 probabilities over options, option
            k being ``labels[k]``; NaN where not observed; or ``None``.
        confidence: ``(n_items, n_agents)`` float64 in [0, 1], NaN where absent; or ``None``.
        item_attrs: one row per item (index = item id): category, n_options, round, ...
        agent_attrs: one row per agent (index = agent): family, developer, ...
        cell_attrs: name -> ``(n_items, n_agents)`` object array of per-row extra columns.
        input_summary: rows read, used and left out, with reasons.
    """

    item_ids: np.ndarray
    agents: np.ndarray
    correct: np.ndarray
    observed: np.ndarray
    answers: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    gold: np.ndarray | None = None
    probs: np.ndarray | None = None
    confidence: np.ndarray | None = None
    item_attrs: pd.DataFrame = field(default_factory=pd.DataFrame)
    agent_attrs: pd.DataFrame = field(default_factory=pd.DataFrame)
    cell_attrs: Mapping[str, np.ndarray] = field(default_factory=dict)
    input_summary: InputSummary = field(
        default_factory=lambda: InputSummary("<arrays>", 0, 0, {}, ())
    )

    def __post_init__(self) -> None:
        for name in ("item_ids", "agents", "correct", "observed", "answers", "gold", "probs"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        if self.confidence is not None:
            self.confidence.flags.writeable = False

    # ------------------------------------------------------------------ shape
    @property
    def n_items(self) -> int:
        return int(self.correct.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.correct.shape[1])

    @property
    def errors(self) -> np.ndarray:
        """``(n_items, n_agents)`` float64: 1 where observed and wrong, else 0."""
        return ((self.correct == 0) & self.observed).astype(np.float64)

    @property
    def answered(self) -> np.ndarray:
        """``(n_items, n_agents)`` bool: observed and gave a parseable answer."""
        if self.answers is None:
            return self.observed.copy()
        return self.answers >= 0

    @property
    def complete_items(self) -> np.ndarray:
        """``(n_items,)`` bool: items that every agent was scored on."""
        return np.asarray(self.observed.all(axis=1))

    def option_counts(self) -> np.ndarray | None:
        """``(n_items,)`` number of answer options per item, when known.

        From the item attribute ``n_options`` if given, else the probabilities' length, else
        the vocabulary size when answers are known; ``None`` when nothing says.
        """
        if "n_options" in self.item_attrs.columns:
            counts = pd.to_numeric(self.item_attrs["n_options"], errors="coerce").to_numpy()
            if np.isfinite(counts).all() and (counts >= 2).all():
                return counts.astype(np.int64)
        if self.probs is not None:
            return np.full(self.n_items, self.probs.shape[2], dtype=np.int64)
        if self.answers is not None and len(self.labels) >= 2:
            return np.full(self.n_items, len(self.labels), dtype=np.int64)
        return None

    def __repr__(self) -> str:
        extras = [
            name
            for name in ("answers", "gold", "probs", "confidence")
            if getattr(self, name) is not None
        ]
        return (
            f"Responses(n_items={self.n_items}, n_agents={self.n_agents}, "
            f"observed={int(self.observed.sum())}, with={extras})"
        )

    # ------------------------------------------------------------------ subsets
    def select(
        self, *, items: np.ndarray | None = None, agents: np.ndarray | None = None
    ) -> Responses:
        """A new `Responses` restricted to the given item and agent positions or masks."""
        item_index = np.arange(self.n_items) if items is None else np.asarray(items)
        agent_index = np.arange(self.n_agents) if agents is None else np.asarray(agents)
        if item_index.dtype == bool:
            item_index = np.flatnonzero(item_index)
        if agent_index.dtype == bool:
            agent_index = np.flatnonzero(agent_index)
        grid = np.ix_(item_index, agent_index)

        def cells(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else np.array(array[grid])

        probs = None if self.probs is None else np.array(self.probs[grid])
        return replace(
            self,
            item_ids=np.array(self.item_ids[item_index]),
            agents=np.array(self.agents[agent_index]),
            correct=np.array(self.correct[grid]),
            observed=np.array(self.observed[grid]),
            answers=cells(self.answers),
            gold=None if self.gold is None else np.array(self.gold[item_index]),
            probs=probs,
            confidence=cells(self.confidence),
            item_attrs=self.item_attrs.iloc[item_index],
            agent_attrs=self.agent_attrs.iloc[agent_index],
            cell_attrs={k: np.array(v[grid]) for k, v in self.cell_attrs.items()},
        )

    def complete_only(self) -> Responses:
        """Only the items that every agent was scored on."""
        return self.select(items=self.complete_items)

    def with_agent_attributes(self, table: pd.DataFrame, *, agent_col: str = "agent") -> Responses:
        """Attach agent attributes (one row per agent) from a table such as ``agents.csv``.

        Agents absent from the table get missing attributes; agents in the table with no
        responses are ignored. Both are reported in ``input_summary.notes``.
        """
        if agent_col not in table.columns:
            raise InputError(
                f"agent table: no column {agent_col!r} (columns: {list(table.columns)}); "
                f"name the agent column with --agent-col or add it."
            )
        names = table[agent_col].astype(str).str.strip()
        duplicated = names[names.duplicated(keep=False)]
        if len(duplicated):
            raise InputError(
                f"agent table: agents listed more than once: {sorted(set(duplicated))[:5]}; "
                "keep one row per agent."
            )
        attrs = table.drop(columns=[agent_col]).set_axis(names.to_numpy(), axis=0)
        known = set(self.agents.tolist())
        unmatched = [name for name in attrs.index if name not in known]
        merged = attrs.reindex(self.agents.tolist())
        without = [str(a) for a in self.agents if a not in set(attrs.index)]
        for column in self.agent_attrs.columns:
            if column not in merged.columns:
                merged[column] = self.agent_attrs[column].to_numpy()
        notes = list(self.input_summary.notes)
        if unmatched:
            notes.append(
                f"{len(unmatched)} agent(s) in the agent table have no responses and were "
                f"ignored: {unmatched[:5]}"
            )
        if without:
            notes.append(f"{len(without)} agent(s) have no row in the agent table: {without[:5]}")
        return replace(
            self,
            agent_attrs=merged,
            input_summary=replace(self.input_summary, notes=tuple(notes)),
        )

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_arrays(
        cls,
        correct: np.ndarray | None = None,
        *,
        answers: np.ndarray | None = None,
        gold: np.ndarray | None = None,
        probs: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
        agents: Sequence[str] | None = None,
        items: Sequence[Any] | None = None,
        labels: Sequence[str] | None = None,
        agent_attrs: pd.DataFrame | None = None,
        item_attrs: pd.DataFrame | None = None,
    ) -> Responses:
        """Build from dense arrays of shape ``(n_items, n_agents)``.

        Args:
            correct: 0/1 (or bool); NaN marks a missing cell. May be omitted when
                ``answers`` and ``gold`` are given: then ``correct = answers == gold``.
            answers: int codes (-1 = no answer) into ``labels``.
            gold: ``(n_items,)`` int codes, -1 where unknown.
            probs: ``(n_items, n_agents, n_options)``; each observed row sums to 1.
            confidence: ``(n_items, n_agents)`` in [0, 1].
            agents, items: names; default ``agent_0..``, ``0..``.
            labels: answer vocabulary; default ``"0".."K-1"``.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0], [0, 0], [1, 1]])
            >>> r.n_items, r.n_agents
            (3, 2)
        """
        answer_codes: np.ndarray | None
        gold_codes: np.ndarray | None
        if correct is None:
            if answers is None or gold is None:
                raise InputError(
                    "from_arrays: give `correct`, or both `answers` and `gold` to derive it."
                )
            answer_codes = _int_matrix(answers, "answers")
            gold_codes = np.asarray(gold, dtype=np.int64).reshape(-1)
            observed = np.ones(answer_codes.shape, dtype=bool)
            correct_int = ((answer_codes == gold_codes[:, None]) & (answer_codes >= 0)).astype(
                np.int8
            )
        else:
            values = np.asarray(correct, dtype=np.float64)
            if values.ndim != 2:
                raise InputError(
                    f"from_arrays: `correct` must be 2-D (n_items, n_agents); got shape "
                    f"{values.shape}."
                )
            observed = np.isfinite(values)
            bad = observed & (values != 0) & (values != 1)
            if bad.any():
                where = np.argwhere(bad)[:_SHOW_ROWS].tolist()
                raise InputError(
                    f"from_arrays: `correct` must hold only 0, 1 or NaN (missing); found "
                    f"{np.unique(values[bad])[:5].tolist()} at (item, agent) {where}."
                )
            correct_int = np.where(observed, values, 0).astype(np.int8)
            answer_codes = None if answers is None else _int_matrix(answers, "answers")
            gold_codes = None if gold is None else np.asarray(gold, dtype=np.int64).reshape(-1)
        n_items, n_agents = correct_int.shape
        if answer_codes is not None and answer_codes.shape != (n_items, n_agents):
            raise InputError(
                f"from_arrays: `answers` has shape {answer_codes.shape}, `correct` "
                f"{(n_items, n_agents)}; they must match."
            )
        if gold_codes is not None and gold_codes.shape != (n_items,):
            raise InputError(
                f"from_arrays: `gold` needs one entry per item ({n_items}); got "
                f"{gold_codes.shape[0]}."
            )
        if answer_codes is not None and gold_codes is not None:
            answer_codes = np.where(observed, answer_codes, -1)
            derived = (answer_codes == gold_codes[:, None]) & (answer_codes >= 0)
            known = observed & (answer_codes >= 0) & (gold_codes[:, None] >= 0)
            clash = known & (derived != correct_int.astype(bool))
            if clash.any():
                where = np.argwhere(clash)[:_SHOW_ROWS].tolist()
                raise InputError(
                    f"from_arrays: `correct` contradicts answers == gold at (item, agent) "
                    f"{where}; fix the answers, the gold labels or `correct`."
                )
        agent_names = _names(agents, n_agents, "agent_", "agents")
        item_names = np.arange(n_items) if items is None else np.asarray(items)
        if item_names.shape != (n_items,):
            raise InputError(f"from_arrays: `items` needs {n_items} names; got {len(item_names)}.")
        if len(set(item_names.tolist())) != n_items:
            raise InputError("from_arrays: `items` holds duplicate item ids; make them unique.")
        n_labels = 0
        for codes in (answer_codes, gold_codes):
            if codes is not None and codes.size:
                n_labels = max(n_labels, int(codes.max()) + 1)
        prob_array = None
        if probs is not None:
            prob_array = np.array(probs, dtype=np.float64)
            if prob_array.ndim != 3 or prob_array.shape[:2] != (n_items, n_agents):
                raise InputError(
                    f"from_arrays: `probs` must have shape (n_items, n_agents, n_options) = "
                    f"({n_items}, {n_agents}, K); got {prob_array.shape}."
                )
            _check_probability_rows(prob_array[observed], "probs", lambda k: f"row {k}")
            prob_array[~observed] = np.nan
            n_labels = max(n_labels, prob_array.shape[2])
        label_names = (
            tuple(str(label) for label in labels)
            if labels is not None
            else tuple(str(k) for k in range(n_labels))
        )
        if len(label_names) < n_labels:
            raise InputError(
                f"from_arrays: `labels` has {len(label_names)} entries but the codes need "
                f"{n_labels}."
            )
        conf = None
        if confidence is not None:
            conf = np.array(confidence, dtype=np.float64)
            inside = ~np.isfinite(conf) | ((conf >= 0) & (conf <= 1))
            if conf.shape != (n_items, n_agents) or not inside.all():
                raise InputError(
                    "from_arrays: `confidence` must be (n_items, n_agents) with values in "
                    "[0, 1] or NaN."
                )
            conf[~observed] = np.nan
        responses = cls(
            item_ids=item_names,
            agents=agent_names,
            correct=correct_int,
            observed=observed,
            answers=None if answer_codes is None else answer_codes.astype(np.int32),
            labels=label_names if (answer_codes is not None or gold_codes is not None) else (),
            gold=None if gold_codes is None else gold_codes.astype(np.int32),
            probs=prob_array,
            confidence=conf,
            item_attrs=_frame(item_attrs, item_names, "item_attrs"),
            agent_attrs=_frame(agent_attrs, agent_names, "agent_attrs"),
            input_summary=InputSummary("<arrays>", n_items * n_agents, int(observed.sum()), {}, ()),
        )
        _check_enough_agents(responses, "<arrays>")
        return responses

    @classmethod
    def from_long(
        cls,
        table: pd.DataFrame,
        *,
        item_col: str = "item_id",
        agent_col: str = "agent",
        answer_col: str = "answer",
        correct_col: str = "correct",
        gold_col: str = "gold",
        probs_col: str = "probs",
        probs_prefix: str = "prob_",
        confidence_col: str = "confidence",
        source: str = "<table>",
    ) -> Responses:
        """Build from a long table, one row per (item, agent).

        Required columns: ``item_col``, ``agent_col``, and ``correct_col`` or both
        ``answer_col`` and ``gold_col`` (then ``correct = answer == gold``). Optional:
        probabilities as a list per row in ``probs_col`` (JSON text or a list) or one column
        per option named ``probs_prefix + label``; ``confidence_col``. Any other column is
        kept: as an item attribute when constant per item, as an agent attribute when
        constant per agent, otherwise as a cell attribute.

        Raises:
            InputError: naming the offending rows or columns and the fix.
        """
        return _LongTableReader(
            table,
            columns={
                "item": item_col,
                "agent": agent_col,
                "answer": answer_col,
                "correct": correct_col,
                "gold": gold_col,
                "probs": probs_col,
                "confidence": confidence_col,
            },
            probs_prefix=probs_prefix,
            source=source,
        ).build()

    def to_long(self) -> pd.DataFrame:
        """One row per observed (item, agent) cell; the inverse of `from_long`."""
        item_pos, agent_pos = np.nonzero(self.observed)
        data: dict[str, Any] = {
            "item_id": self.item_ids[item_pos],
            "agent": self.agents[agent_pos],
        }
        labels = np.array([*self.labels, None], dtype=object)  # code -1 -> None
        if self.answers is not None:
            data["answer"] = labels[self.answers[item_pos, agent_pos]]
        data["correct"] = self.correct[item_pos, agent_pos].astype(np.int64)
        if self.gold is not None:
            data["gold"] = labels[self.gold[item_pos]]
        if self.probs is not None:
            data["probs"] = [row.tolist() for row in self.probs[item_pos, agent_pos]]
        if self.confidence is not None:
            data["confidence"] = self.confidence[item_pos, agent_pos]
        for name, values in self.cell_attrs.items():
            data[name] = values[item_pos, agent_pos]
        long = pd.DataFrame(data)
        for name in self.item_attrs.columns:
            long[name] = self.item_attrs[name].to_numpy()[item_pos]
        for name in self.agent_attrs.columns:
            long[name] = self.agent_attrs[name].to_numpy()[agent_pos]
        return long


# ---------------------------------------------------------------------- helpers
def _int_matrix(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
        raise InputError(
            f"from_arrays: `{name}` must be a 2-D integer array of codes (-1 = no answer); "
            f"got dtype {array.dtype} and shape {array.shape}."
        )
    return array.astype(np.int64)


def _names(names: Sequence[str] | None, n: int, prefix: str, what: str) -> np.ndarray:
    if names is None:
        return np.array([f"{prefix}{k}" for k in range(n)], dtype=object)
    array = np.array([str(name) for name in names], dtype=object)
    if array.shape != (n,):
        raise InputError(f"from_arrays: `{what}` needs {n} names; got {len(array)}.")
    if len(set(array.tolist())) != n:
        raise InputError(f"from_arrays: `{what}` holds duplicate names; make them unique.")
    return array


def _frame(table: pd.DataFrame | None, index: np.ndarray, what: str) -> pd.DataFrame:
    if table is None:
        return pd.DataFrame(index=pd.Index(index))
    if len(table) != len(index):
        raise InputError(f"from_arrays: `{what}` needs {len(index)} rows; got {len(table)}.")
    return table.set_axis(pd.Index(index), axis=0)


def _check_enough_agents(responses: Responses, source: str) -> None:
    if responses.n_agents < 2:
        raise InputError(
            f"{source}: found {responses.n_agents} agent(s); correlated failure needs at "
            "least 2 agents. Check the agent column (--agent-col) or add agents."
        )
    if responses.n_items < 1:
        raise InputError(f"{source}: no items with a scored response.")


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r) + 1) for r in rows[:_SHOW_ROWS])
    more = f" and {len(rows) - _SHOW_ROWS} more" if len(rows) > _SHOW_ROWS else ""
    return f"data row(s) {shown}{more} (counting from 1 after the header)"


def _check_probability_rows(
    rows: np.ndarray, what: str, describe: Any, row_numbers: np.ndarray | None = None
) -> None:
    """Every row must be finite, non-negative and sum to 1 within 1e-6."""
    numbers = np.arange(len(rows)) if row_numbers is None else row_numbers
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise InputError(
            f"{what}: probabilities must be numbers; {_rows_text(numbers[~finite])} hold "
            "missing or non-numeric values. Give a full distribution on every row."
        )
    negative = (rows < 0).any(axis=1)
    if negative.any():
        raise InputError(
            f"{what}: probabilities must be >= 0; {_rows_text(numbers[negative])} have "
            "negative entries. Fix the model outputs or drop the probabilities."
        )
    sums = rows.sum(axis=1)
    off = np.abs(sums - 1.0) > _PROB_TOLERANCE
    if off.any():
        raise InputError(
            f"{what}: probabilities must sum to 1 (within {_PROB_TOLERANCE:g}); "
            f"{_rows_text(numbers[off])} sum to {np.round(sums[off][:_SHOW_ROWS], 6).tolist()}. "
            "Normalise each row (p / p.sum()) or drop the probabilities."
        )


class _LongTableReader:
    """Validates a long table and turns it into a `Responses` (used by `from_long`)."""

    def __init__(
        self, table: pd.DataFrame, *, columns: dict[str, str], probs_prefix: str, source: str
    ) -> None:
        self.table = table.reset_index(drop=True)
        self.cols = columns
        self.probs_prefix = probs_prefix
        self.source = source
        self.left_out: dict[str, int] = {}
        self.notes: list[str] = []
        self.prob_labels: list[str] | None = None
        self.option_lengths: pd.Series | None = None

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.source}: {message}")

    def build(self) -> Responses:
        table, cols = self.table, self.cols
        if len(table) == 0:
            raise self.fail("the table has no rows. Give at least one row per (item, agent).")
        has = {key: name in table.columns for key, name in cols.items()}
        missing = [cols[key] for key in ("item", "agent") if not has[key]]
        if not has["correct"] and not (has["answer"] and has["gold"]):
            missing.append(f"{cols['correct']} (or both {cols['answer']} and {cols['gold']})")
        if missing:
            raise self.fail(
                f"missing required column(s) {missing}; the table has {list(table.columns)}. "
                "Rename them or point to yours with --item-col, --agent-col, --correct-col, "
                "--answer-col, --gold-col."
            )
        rows_read = len(table)
        blank_key = table[cols["item"]].isna() | table[cols["agent"]].isna()
        if blank_key.any():
            raise self.fail(
                f"{_rows_text(np.flatnonzero(blank_key.to_numpy()))} have an empty "
                f"{cols['item']!r} or {cols['agent']!r}; every row needs both."
            )
        answers = labels_as_strings(table[cols["answer"]]) if has["answer"] else None
        gold = labels_as_strings(table[cols["gold"]]) if has["gold"] else None
        correct = self._correctness(table, answers, gold, has["correct"])
        probs = self._probabilities(table, answers, gold)
        confidence = self._confidence(table) if has["confidence"] else None

        scored = correct.notna().to_numpy()
        if not scored.all():
            self.left_out[f"no {cols['correct']} value and no answer/gold to derive it"] = int(
                (~scored).sum()
            )
        keep = np.flatnonzero(scored)
        keep = self._drop_duplicates(keep, correct, answers, probs, confidence)

        item_codes, item_ids = pd.factorize(table[cols["item"]].to_numpy()[keep])
        agent_codes, agent_ids = pd.factorize(
            table[cols["agent"]].astype(str).str.strip().to_numpy()[keep]
        )
        n_items, n_agents = len(item_ids), len(agent_ids)
        grid = (item_codes, agent_codes)
        observed = np.zeros((n_items, n_agents), dtype=bool)
        observed[grid] = True
        correct_matrix = np.zeros((n_items, n_agents), dtype=np.int8)
        correct_matrix[grid] = correct.to_numpy()[keep].astype(np.int8)

        labels, answer_codes, gold_codes = self._vocabulary(answers, gold, probs, keep, grid)
        answer_matrix = None
        if answer_codes is not None:
            answer_matrix = np.full((n_items, n_agents), -1, dtype=np.int32)
            answer_matrix[grid] = answer_codes
        gold_vector = None
        if gold_codes is not None:
            gold_vector = self._gold_per_item(gold_codes, item_codes, n_items, keep)

        prob_cube = None
        if probs is not None:
            width = max(probs.shape[1], len(labels))
            prob_cube = np.full((n_items, n_agents, width), np.nan)
            padded = np.zeros((len(keep), width))
            padded[:, : probs.shape[1]] = probs[keep]
            prob_cube[grid] = padded
        conf_matrix = None
        if confidence is not None:
            conf_matrix = np.full((n_items, n_agents), np.nan)
            conf_matrix[grid] = confidence[keep]

        item_attrs, agent_attrs, cell_attrs = self._attributes(
            keep, item_codes, agent_codes, n_items, n_agents
        )
        item_attrs.index = pd.Index(item_ids)
        agent_attrs.index = pd.Index(agent_ids.astype(object))
        responses = Responses(
            item_ids=np.asarray(item_ids),
            agents=np.asarray(agent_ids, dtype=object),
            correct=correct_matrix,
            observed=observed,
            answers=answer_matrix,
            labels=tuple(labels),
            gold=gold_vector,
            probs=prob_cube,
            confidence=conf_matrix,
            item_attrs=item_attrs,
            agent_attrs=agent_attrs,
            cell_attrs=cell_attrs,
            input_summary=InputSummary(
                self.source, rows_read, len(keep), dict(self.left_out), tuple(self.notes)
            ),
        )
        _check_enough_agents(responses, self.source)
        return responses

    # -- columns -----------------------------------------------------------
    def _correctness(
        self,
        table: pd.DataFrame,
        answers: pd.Series | None,
        gold: pd.Series | None,
        has_correct: bool,
    ) -> pd.Series:
        derived = None
        if answers is not None and gold is not None:
            known_gold = gold.notna()
            derived = pd.Series(np.nan, index=table.index)
            derived[known_gold] = (answers[known_gold] == gold[known_gold]).astype(float)
        if not has_correct:
            assert derived is not None  # guaranteed by the required-column check
            return derived
        raw = table[self.cols["correct"]]
        text = raw.astype("string").str.strip().str.lower()
        mapping = {"1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "true": 1.0, "false": 0.0}
        values = text.map(mapping)
        bad = text.notna() & (text != "") & values.isna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            shown = sorted(set(raw[bad].astype(str)))[:5]
            raise self.fail(
                f"column {self.cols['correct']!r} must be 0 or 1 (or true/false); "
                f"{_rows_text(rows)} hold {shown}. Score them as 0/1 or leave them empty "
                "to derive correctness from answer == gold."
            )
        values = values.astype(float)
        if derived is not None:
            both = values.notna() & derived.notna() & answers.notna()  # type: ignore[union-attr]
            clash = both & (values != derived)
            if clash.any():
                rows = np.flatnonzero(clash.to_numpy())
                raise self.fail(
                    f"column {self.cols['correct']!r} contradicts "
                    f"{self.cols['answer']!r} == {self.cols['gold']!r} on {_rows_text(rows)}. "
                    "Fix the scoring, or drop the correct column to derive it from the answers."
                )
            values = values.fillna(derived)
        return values

    def _probabilities(
        self, table: pd.DataFrame, answers: pd.Series | None, gold: pd.Series | None
    ) -> np.ndarray | None:
        column = self.cols["probs"]
        prefixed = [c for c in table.columns if str(c).startswith(self.probs_prefix)]
        if column in table.columns and prefixed:
            raise self.fail(
                f"probabilities given twice: column {column!r} and columns {prefixed[:3]}...; "
                "keep one form."
            )
        if prefixed:
            self.prob_labels = [str(c)[len(self.probs_prefix) :] for c in prefixed]
            matrix = table[prefixed].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
            _check_probability_rows(matrix, f"{self.source}: columns {prefixed[:3]}...", None)
            return matrix
        if column not in table.columns:
            return None
        parsed = []
        bad_rows = []
        for k, value in enumerate(table[column].to_numpy()):
            try:
                row = json.loads(value) if isinstance(value, str) else value
                parsed.append(np.asarray(row, dtype=np.float64).reshape(-1))
            except (TypeError, ValueError):
                bad_rows.append(k)
        if bad_rows:
            raise self.fail(
                f"column {column!r} must hold a JSON list of numbers on every row; "
                f"{_rows_text(np.array(bad_rows))} do not."
            )
        width = max(len(row) for row in parsed)
        if width < 2:
            raise self.fail(f"column {column!r}: a distribution needs at least 2 options.")
        matrix = np.zeros((len(parsed), width))
        lengths = np.array([len(row) for row in parsed])
        for k, row in enumerate(parsed):
            matrix[k, : len(row)] = row
        _check_probability_rows(matrix, f"{self.source}: column {column!r}", None)
        items = table[self.cols["item"]].to_numpy()
        per_item = pd.Series(lengths).groupby(items).nunique()
        if (per_item > 1).any():
            raise self.fail(
                f"column {column!r}: the rows of one item must list the same number of "
                f"options; items {per_item[per_item > 1].index[:5].tolist()} differ."
            )
        self.option_lengths = pd.Series(lengths).groupby(items).first()
        return matrix

    def _confidence(self, table: pd.DataFrame) -> np.ndarray:
        column = self.cols["confidence"]
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
        given = table[column].notna().to_numpy()
        bad = given & (~np.isfinite(values) | (values < 0) | (values > 1))
        if bad.any():
            raise self.fail(
                f"column {column!r} must be a number in [0, 1]; {_rows_text(np.flatnonzero(bad))}"
                " are not. Rescale it or leave it empty."
            )
        return values

    def _drop_duplicates(
        self,
        keep: np.ndarray,
        correct: pd.Series,
        answers: pd.Series | None,
        probs: np.ndarray | None,
        confidence: np.ndarray | None,
    ) -> np.ndarray:
        table = self.table
        key = pd.DataFrame(
            {
                "item": table[self.cols["item"]].to_numpy()[keep],
                "agent": table[self.cols["agent"]].astype(str).str.strip().to_numpy()[keep],
            }
        )
        repeated = key.duplicated(keep=False).to_numpy()
        if not repeated.any():
            return keep
        content = pd.DataFrame({"correct": correct.to_numpy()[keep]})
        if answers is not None:
            content["answer"] = answers.to_numpy()[keep]
        if probs is not None:
            content["probs"] = [tuple(row) for row in probs[keep]]
        if confidence is not None:
            content["confidence"] = confidence[keep]
        combined = pd.concat([key, content], axis=1)
        distinct = combined.drop_duplicates()
        conflicting = distinct.duplicated(subset=["item", "agent"], keep=False)
        if conflicting.any():
            pairs = distinct.loc[conflicting, ["item", "agent"]].drop_duplicates()
            shown = [tuple(p) for p in pairs.head(_SHOW_ROWS).itertuples(index=False)]
            rows = keep[np.flatnonzero(repeated)]
            raise self.fail(
                f"{len(pairs)} (item, agent) pair(s) appear on several rows that disagree, "
                f"e.g. {shown}; {_rows_text(rows)}. Keep one row per item and agent."
            )
        first = ~key.duplicated(keep="first").to_numpy()
        self.left_out["exact duplicate (item, agent) rows"] = int((~first).sum())
        return keep[first]

    # -- vocabulary and gold -----------------------------------------------
    def _vocabulary(
        self,
        answers: pd.Series | None,
        gold: pd.Series | None,
        probs: np.ndarray | None,
        keep: np.ndarray,
        grid: tuple[np.ndarray, np.ndarray],
    ) -> tuple[list[str], np.ndarray | None, np.ndarray | None]:
        seen: list[str] = []
        for series in (answers, gold):
            if series is not None:
                seen.extend(pd.unique(series.iloc[keep].dropna()).tolist())
        if probs is None:
            labels = natural_order(seen)
        elif self.prob_labels is not None:
            labels = list(self.prob_labels)
            strays = sorted(set(seen) - set(labels))
            if strays:
                raise self.fail(
                    f"answers or gold labels {strays[:5]} have no probability column "
                    f"({self.probs_prefix}<label>); add one per option."
                )
        else:
            positional = positional_labels(seen, probs.shape[1])
            if positional is None:
                raise self.fail(
                    f"probabilities given as lists need option letters (A, B, ...) or option "
                    f"indexes (0, 1, ...) as answers; got {sorted(set(seen))[:5]}. Or give one "
                    f"column per option named {self.probs_prefix}<label>."
                )
            labels = positional
            too_far = [label for label in set(seen) if labels.index(label) >= probs.shape[1]]
            if too_far:
                raise self.fail(
                    f"labels {sorted(too_far)[:5]} lie beyond the {probs.shape[1]} listed "
                    "probabilities."
                )
        position = {label: k for k, label in enumerate(labels)}

        def encode(series: pd.Series | None) -> np.ndarray | None:
            if series is None:
                return None
            codes = pd.Series(series.to_numpy()[keep]).map(position)
            return codes.fillna(-1).to_numpy(dtype=np.int32)

        return labels, encode(answers), encode(gold)

    def _gold_per_item(
        self, gold_codes: np.ndarray, item_codes: np.ndarray, n_items: int, keep: np.ndarray
    ) -> np.ndarray:
        """One gold code per item; items whose rows disagree get -1 (unknown) and a note.

        Correctness stays per row (checked against that row's gold), so a changed answer
        key between runs costs nothing but the item's single gold label.
        """
        frame = pd.DataFrame({"item": item_codes, "gold": gold_codes})
        known = frame[frame["gold"] >= 0]
        per_item = known.groupby("item")["gold"].nunique()
        gold = np.full(n_items, -1, dtype=np.int32)
        first = known.groupby("item")["gold"].first()
        gold[first.index.to_numpy()] = first.to_numpy()
        clash = per_item[per_item > 1].index.to_numpy()
        if len(clash):
            gold[clash] = -1
            ids = self.table[self.cols["item"]].to_numpy()[keep][np.isin(item_codes, clash)]
            self.notes.append(
                f"{len(clash)} item(s) have different {self.cols['gold']!r} values on different "
                f"rows (e.g. item {ids[0]}); each row was scored against its own gold, and "
                "the item's single gold label is set to unknown."
            )
        return gold

    # -- extra columns -------------------------------------------------------
    def _attributes(
        self,
        keep: np.ndarray,
        item_codes: np.ndarray,
        agent_codes: np.ndarray,
        n_items: int,
        n_agents: int,
    ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
        used = set(self.cols.values())
        extra = [
            c
            for c in self.table.columns
            if c not in used and not str(c).startswith(self.probs_prefix)
        ]
        item_attrs = pd.DataFrame(index=range(n_items))
        agent_attrs = pd.DataFrame(index=range(n_agents))
        cell_attrs: dict[str, np.ndarray] = {}
        for column in extra:
            values = self.table[column].iloc[keep].reset_index(drop=True)
            as_key = values.astype("string").fillna("\x00missing")
            if (as_key.groupby(item_codes).nunique() <= 1).all():
                item_attrs[column] = values.groupby(item_codes).first().reindex(range(n_items))
            elif (as_key.groupby(agent_codes).nunique() <= 1).all():
                agent_attrs[column] = values.groupby(agent_codes).first().reindex(range(n_agents))
            else:
                matrix = np.full((n_items, n_agents), None, dtype=object)
                matrix[item_codes, agent_codes] = values.to_numpy()
                cell_attrs[str(column)] = matrix
        if self.option_lengths is not None and "n_options" not in item_attrs.columns:
            lengths = self.option_lengths.reindex(
                pd.unique(self.table[self.cols["item"]].to_numpy()[keep])
            )
            item_attrs["n_options"] = lengths.to_numpy()
        return item_attrs, agent_attrs, cell_attrs
