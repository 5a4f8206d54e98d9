"""Long tables (one row per item and agent) to `Responses` and back.

The reader parses columns into dense arrays (labels into codes, text into numbers, rows into
cells) and hands them to `Responses.from_arrays`, which checks every rule of the data
structure; its messages name this table's rows through a cell locator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from monoculture._labels import (
    AnswerNormalization,
    choose_normalization,
    labels_as_strings,
    natural_order,
    normalize_labels,
    positional_labels,
)
from monoculture.errors import InputError
from monoculture.responses import InputSummary, Responses

__all__ = ["LongColumns", "responses_from_long", "responses_to_long"]

_SHOW_ROWS = 5
_PLAIN_INT = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")
_TRUTHY = {"1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class LongColumns:
    """Column names of a long table.

    Attributes:
        item, agent: the keys of a row (required).
        correct: 0/1 (or true/false); required unless both ``answer`` and ``gold`` exist.
        answer, gold: answer labels; ``correct = answer == gold`` where ``correct`` is empty.
        probs: a probability list per row (JSON text or a list).
        probs_prefix: alternatively one column per option, named ``probs_prefix + label``.
        confidence: a number in [0, 1].

    Example:
        >>> table = pd.DataFrame({"q": [1, 1], "model": ["a", "b"], "ok": [1, 0]})
        >>> cols = LongColumns(item="q", agent="model", correct="ok")
        >>> responses_from_long(table, columns=cols).agents.tolist()
        ['a', 'b']
    """

    item: str = "item_id"
    agent: str = "agent"
    answer: str = "answer"
    correct: str = "correct"
    gold: str = "gold"
    probs: str = "probs"
    probs_prefix: str = "prob_"
    confidence: str = "confidence"

    def named(self) -> dict[str, str]:
        """Role -> column name, for the single-column roles."""
        return {
            "item": self.item,
            "agent": self.agent,
            "answer": self.answer,
            "correct": self.correct,
            "gold": self.gold,
            "probs": self.probs,
            "confidence": self.confidence,
        }


def responses_from_long(
    table: pd.DataFrame,
    *,
    columns: LongColumns | None = None,
    source: str = "<table>",
    left_out: Mapping[str, int] | None = None,
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
) -> Responses:
    """Build a `Responses` from a long table, one row per (item, agent).

    Required columns: item, agent, and correct or both answer and gold. Optional:
    probabilities (a list per row, or one column per option) and confidence. Any other
    column is kept: as an item attribute when constant per item, as an agent attribute
    when constant per agent, otherwise as a cell attribute. Exact duplicate rows are
    dropped and counted; rows with no correctness are left out and counted. ``left_out``
    counts rows the caller removed before (reason -> rows): they count as read too.

    Scoring: where ``correct`` is given it is the authority (free-form answers are graded
    by rules other than equality); where it is empty it is derived as ``answer == gold``
    after ``answer_normalization`` (``none``: as written, stripped; ``text``: case, spacing
    and quotes folded; ``number``: ``75.00`` = ``75``, ``2,125`` = ``2125``; ``auto``:
    ``number`` when 95 % of the labels are numbers, ``none`` when all are short tokens such
    as option letters, else ``text``). The same comparison decides which wrong answers are
    the same. The choice and its reason, and any disagreement between ``correct`` and the
    answers, are noted in the input summary. ``strict_scoring`` refuses the disagreements.

    Raises:
        InputError: naming the offending rows or columns and the fix.

    Example:
        >>> table = pd.DataFrame({"item_id": [1, 1, 2, 2], "agent": ["a", "b", "a", "b"],
        ...                       "correct": [1, 0, 1, 1]})
        >>> responses_from_long(table).correct.tolist()
        [[1, 0], [1, 1]]
    """
    if answer_normalization not in ("auto", "none", "text", "number"):
        raise InputError(
            "responses_from_long: `answer_normalization` must be one of 'auto', 'none', "
            f"'text', 'number'; got {answer_normalization!r}."
        )
    reader = _LongTableReader(table, columns or LongColumns(), source, left_out or {})
    return reader.build(answer_normalization, strict_scoring=strict_scoring)


def responses_to_long(responses: Responses, *, columns: LongColumns | None = None) -> pd.DataFrame:
    """One row per observed (item, agent) cell; the inverse of `responses_from_long`.

    Example:
        >>> r = Responses.from_arrays(correct=[[1, 0]], agents=["a", "b"])
        >>> responses_to_long(r)[["agent", "correct"]].values.tolist()
        [['a', 1], ['b', 0]]
    """
    cols = columns or LongColumns()
    item_pos, agent_pos = np.nonzero(responses.observed)
    data: dict[str, Any] = {
        cols.item: responses.item_ids[item_pos],
        cols.agent: responses.agents[agent_pos],
    }
    labels = np.array([*responses.labels, None], dtype=object)  # code -1 -> None
    if responses.answers is not None:
        data[cols.answer] = labels[responses.answers[item_pos, agent_pos]]
    data[cols.correct] = responses.correct[item_pos, agent_pos].astype(np.int64)
    if responses.gold is not None:
        data[cols.gold] = labels[responses.gold[item_pos]]
    if responses.probs is not None:
        data[cols.probs] = [row.tolist() for row in responses.probs[item_pos, agent_pos]]
    if responses.confidence is not None:
        data[cols.confidence] = responses.confidence[item_pos, agent_pos]
    for name, values in responses.cell_attrs.items():
        data[name] = values[item_pos, agent_pos]
    long = pd.DataFrame(data)
    for name in responses.item_attrs.columns:
        long[name] = responses.item_attrs[name].to_numpy()[item_pos]
    for name in responses.agent_attrs.columns:
        long[name] = responses.agent_attrs[name].to_numpy()[agent_pos]
    return long


def _id_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _display_ids(values: np.ndarray) -> np.ndarray:
    """Ids as shown: stripped text, and whole numbers as numbers when every id is one written
    plainly (so ids read as text from a CSV still appear as 70, not "70")."""
    if values.dtype != object:
        return values
    stripped = [v.strip() if isinstance(v, str) else v for v in values]
    if all(isinstance(v, str) and _PLAIN_INT.match(v) for v in stripped):
        return np.array([int(v) for v in stripped], dtype=np.int64)
    return np.array(stripped, dtype=object)


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(int(r) + 1) for r in rows[:_SHOW_ROWS])
    more = f" and {len(rows) - _SHOW_ROWS} more" if len(rows) > _SHOW_ROWS else ""
    return f"data row(s) {shown}{more} (counting from 1 after the header)"


class _LongTableReader:
    """Parses a long table into arrays; `Responses.from_arrays` checks them."""

    def __init__(
        self, table: pd.DataFrame, columns: LongColumns, source: str, left_out: Mapping[str, int]
    ) -> None:
        self.table = table.reset_index(drop=True)
        self.columns = columns
        self.cols = columns.named()
        self.source = source
        self.left_earlier = dict(left_out)
        self.left_out: dict[str, int] = {}
        self.notes: list[str] = []
        self.prob_labels: list[str] | None = None
        self.stripped_ids = False
        self.item_keys = np.empty(0, dtype=object)
        self.agent_keys = np.empty(0, dtype=object)
        self.option_lengths: pd.Series | None = None

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.source}: {message}")

    def build(self, normalization: AnswerNormalization, *, strict_scoring: bool) -> Responses:
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
        blank_key = table[cols["item"]].isna() | table[cols["agent"]].isna()
        if blank_key.any():
            raise self.fail(
                f"{_rows_text(np.flatnonzero(blank_key.to_numpy()))} have an empty "
                f"{cols['item']!r} or {cols['agent']!r}; every row needs both."
            )
        self.item_keys = self._id_keys(table[cols["item"]], "item")
        self.agent_keys = self._id_keys(table[cols["agent"]], "agent")
        answers = labels_as_strings(table[cols["answer"]]) if has["answer"] else None
        gold = labels_as_strings(table[cols["gold"]]) if has["gold"] else None
        mode = None
        if answers is not None or gold is not None:
            mode = self._normalization(normalization, answers, gold)
            answers = None if answers is None else normalize_labels(answers, mode)
            gold = None if gold is None else normalize_labels(gold, mode)
        correct = self._correctness(table, answers, gold, has["correct"])
        probs = self._probabilities(table)
        confidence = self._confidence(table) if has["confidence"] else None

        scored = correct.notna().to_numpy()
        if not scored.all():
            self.left_out[f"no {cols['correct']} value and no answer/gold to derive it"] = int(
                (~scored).sum()
            )
        keep = self._drop_duplicates(np.flatnonzero(scored), correct, answers, probs, confidence)

        item_codes, _ = pd.factorize(self.item_keys[keep])
        # Shown as first written (a number stays a number in saved documents).
        first_row = keep[np.unique(item_codes, return_index=True)[1]]
        item_ids = _display_ids(table[cols["item"]].to_numpy()[first_row])
        agent_codes, agent_ids = pd.factorize(self.agent_keys[keep])
        n_items, n_agents = len(item_ids), len(agent_ids)
        grid = (item_codes, agent_codes)
        row_of = np.full((n_items, n_agents), -1, dtype=np.int64)
        row_of[grid] = keep
        correct_matrix = np.full((n_items, n_agents), np.nan)
        correct_matrix[grid] = correct.to_numpy()[keep]

        labels, answer_codes, gold_codes = self._vocabulary(answers, gold, probs, keep)
        answer_matrix = None
        if answer_codes is not None:
            answer_matrix = np.full((n_items, n_agents), -1, dtype=np.int64)
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
        return Responses.from_arrays(
            correct_matrix,
            answers=answer_matrix,
            gold=gold_vector,
            probs=prob_cube,
            confidence=conf_matrix,
            agents=list(agent_ids),
            items=np.asarray(item_ids),
            labels=labels,
            item_attrs=item_attrs,
            agent_attrs=agent_attrs,
            cell_attrs=cell_attrs,
            input_summary=InputSummary(
                self.source,
                len(table) + sum(self.left_earlier.values()),
                len(keep),
                {**self.left_out, **self.left_earlier},
                tuple(self.notes),
                mode,
            ),
            locate=lambda items, agents: _rows_text(row_of[items, agents]),
            strict_scoring=strict_scoring,
        )

    def _normalization(
        self,
        requested: AnswerNormalization,
        answers: pd.Series | None,
        gold: pd.Series | None,
    ) -> Literal["none", "text", "number"]:
        has_probs = self.cols["probs"] in self.table.columns or any(
            str(c).startswith(self.columns.probs_prefix) for c in self.table.columns
        )
        if has_probs and requested in ("text", "number"):
            raise self.fail(
                f"answer normalization {requested!r} is for free-form answers; with option "
                "probabilities the answers are option labels. Use 'none' (or 'auto')."
            )
        if has_probs:
            return "none"
        if requested != "auto":
            self.notes.append(f"answers compared with gold labels as {requested!r} (as asked)")
            return requested
        labels = [str(v) for s in (answers, gold) if s is not None for v in s.dropna().unique()]
        mode, why = choose_normalization(labels)
        if mode != "none":
            self.notes.append(f"answers compared with gold labels as {mode!r} (auto: {why})")
        return mode

    # -- columns -----------------------------------------------------------
    def _correctness(
        self,
        table: pd.DataFrame,
        answers: pd.Series | None,
        gold: pd.Series | None,
        has_correct: bool,
    ) -> pd.Series:
        """The correct column as 0.0/1.0/NaN; empty cells derived from answer == gold (the
        row's own gold: answer keys may change between runs). Whether a given value agrees
        with the answers is one of the rules `Responses.from_arrays` checks."""
        derived = pd.Series(np.nan, index=table.index)
        if answers is not None and gold is not None:
            known_gold = gold.notna()
            derived[known_gold] = (answers[known_gold] == gold[known_gold]).astype(float)
        if not has_correct:
            return derived
        raw = table[self.cols["correct"]]
        text = raw.astype("string").str.strip().str.lower()
        values = text.map(_TRUTHY)
        bad = text.notna() & (text != "") & values.isna()
        if bad.any():
            shown = sorted(set(raw[bad].astype(str)))[:_SHOW_ROWS]
            raise self.fail(
                f"column {self.cols['correct']!r} must be 0 or 1 (or true/false); "
                f"{_rows_text(np.flatnonzero(bad.to_numpy()))} hold {shown}. Score them as "
                "0/1 or leave them empty to derive correctness from answer == gold."
            )
        return values.astype(float).fillna(derived)

    def _probabilities(self, table: pd.DataFrame) -> np.ndarray | None:
        column, prefix = self.cols["probs"], self.columns.probs_prefix
        prefixed = [c for c in table.columns if str(c).startswith(prefix)]
        if column in table.columns and prefixed:
            raise self.fail(
                f"probabilities given twice: column {column!r} and columns {prefixed[:3]}...; "
                "keep one form."
            )
        if prefixed:
            self.prob_labels = [str(c)[len(prefix) :] for c in prefixed]
            numbers = table[prefixed].apply(pd.to_numeric, errors="coerce")
            return np.asarray(numbers.to_numpy(np.float64))
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
        lengths = np.array([len(row) for row in parsed])
        if lengths.max() < 2:
            raise self.fail(f"column {column!r}: a distribution needs at least 2 options.")
        matrix = np.zeros((len(parsed), int(lengths.max())))
        for k, row in enumerate(parsed):
            matrix[k, : len(row)] = row
        items = self.item_keys
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
        unparsed = table[column].notna().to_numpy() & np.isnan(values)
        if unparsed.any():
            raise self.fail(
                f"column {column!r} must be a number in [0, 1]; "
                f"{_rows_text(np.flatnonzero(unparsed))} are not numbers. Fix them or leave "
                "them empty."
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
        key = pd.DataFrame(
            {
                "item": self.item_keys[keep],
                "agent": self.agent_keys[keep],
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
            stripped = self.stripped_ids and " (ids are compared without surrounding spaces)"
            raise self.fail(
                f"{len(pairs)} (item, agent) pair(s) appear on several rows that disagree, "
                f"e.g. {shown}{stripped or ''}; {_rows_text(rows)}. Keep one row per item "
                "and agent."
            )
        first = ~key.duplicated(keep="first").to_numpy()
        self.left_out["exact duplicate (item, agent) rows"] = int((~first).sum())
        return np.asarray(keep[first])

    def _id_keys(self, values: pd.Series, what: str) -> np.ndarray:
        """Ids compared as text, the documented rule for every reader: a whole number is
        written without a decimal point (7 and 7.0 read from a typed format are one id;
        CSV ids are read as written), and surrounding spaces are dropped. Ids merged or
        changed by the rule are noted."""
        raw = values.to_numpy()
        keys = np.array([_id_text(v) for v in raw], dtype=object)
        column = self.cols[what]
        self._note_numeric_twins(keys, what, column)
        kinds = {type(v).__name__ for v in raw if not isinstance(v, str)}
        if kinds and any(isinstance(v, str) for v in raw):
            self.notes.append(
                f"{what} ids in {column!r} are given both as text and as numbers; they are "
                "compared as text, so 1 and '1' are one id."
            )
        spaced = [v for v in raw if isinstance(v, str) and v != v.strip()]
        if spaced:
            self.stripped_ids = True
            self.notes.append(
                f"{len(spaced)} row(s) have {what} ids with surrounding spaces (e.g. "
                f"{spaced[0]!r}); they were removed, so {spaced[0]!r} and "
                f"{spaced[0].strip()!r} are one {what}."
            )
        return keys

    def _note_numeric_twins(self, keys: np.ndarray, what: str, column: str) -> None:
        """Say when ids that are equal as numbers differ as text (``7`` and ``7.0``): by the
        rule they are two ids, which a user may not expect."""
        unique = pd.unique(keys)
        numbers = pd.to_numeric(pd.Series(unique), errors="coerce")
        twins = pd.Series(unique)[numbers.notna()].groupby(numbers[numbers.notna()]).agg(list)
        twins = twins[twins.map(len) > 1]
        if len(twins):
            example = twins.iloc[0]
            self.notes.append(
                f"{len(twins)} {what} id(s) in {column!r} are written as the same number in "
                f"different ways (e.g. {example[:3]}); ids are compared as text, so they are "
                f"different {what}s. Write them alike if they are one."
            )

    # -- vocabulary and gold -----------------------------------------------
    def _vocabulary(
        self,
        answers: pd.Series | None,
        gold: pd.Series | None,
        probs: np.ndarray | None,
        keep: np.ndarray,
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
                    f"({self.columns.probs_prefix}<label>); add one per option."
                )
        else:
            positional = positional_labels(seen, probs.shape[1])
            if positional is None:
                raise self.fail(
                    f"probabilities given as lists need option letters (A, B, ...) or option "
                    f"indexes (0, 1, ...) as answers; got {sorted(set(seen))[:5]}. Or give one "
                    f"column per option named {self.columns.probs_prefix}<label>."
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
            return codes.fillna(-1).to_numpy(dtype=np.int64)

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
        gold = np.full(n_items, -1, dtype=np.int64)
        first = known.groupby("item")["gold"].first()
        gold[first.index.to_numpy()] = first.to_numpy()
        clash = per_item[per_item > 1].index.to_numpy()
        if len(clash):
            gold[clash] = -1
            ids = self.item_keys[keep][np.isin(item_codes, clash)]
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
        prefix = self.columns.probs_prefix
        extra = [c for c in self.table.columns if c not in used and not str(c).startswith(prefix)]
        item_attrs = pd.DataFrame(index=range(n_items))
        agent_attrs = pd.DataFrame(index=range(n_agents))
        cell_attrs: dict[str, np.ndarray] = {}
        for column in extra:
            values = self.table[column].iloc[keep].reset_index(drop=True)
            as_key = values.astype("string").fillna("\x00missing")
            per_item = bool((as_key.groupby(item_codes).nunique() <= 1).all())
            per_agent = bool((as_key.groupby(agent_codes).nunique() <= 1).all())
            if per_item:
                item_attrs[column] = values.groupby(item_codes).first().reindex(range(n_items))
            if per_agent:
                # A column constant over the whole table (one model for every agent) is
                # both: as an agent attribute it says the swarm shares it.
                agent_attrs[column] = values.groupby(agent_codes).first().reindex(range(n_agents))
            if not (per_item or per_agent):
                matrix = np.full((n_items, n_agents), None, dtype=object)
                matrix[item_codes, agent_codes] = values.to_numpy()
                cell_attrs[str(column)] = matrix
        if self.option_lengths is not None and "n_options" not in item_attrs.columns:
            lengths = self.option_lengths.reindex(pd.unique(self.item_keys[keep]))
            item_attrs["n_options"] = lengths.to_numpy()
        return item_attrs, agent_attrs, cell_attrs
