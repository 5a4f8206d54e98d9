"""`Responses`: item-level results of many agents, the one data structure of monoculture.

Everything that produces answers (files, experiments, simulations) produces a `Responses`;
every metric consumes one. Every source hands dense arrays to one validating constructor,
`Responses.from_arrays`, which states and checks the invariants below; the result is
immutable. Reading file columns is the job of `monoculture.io`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from monoculture._labels import AnswerNormalization
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.io.long_table import LongColumns

__all__ = ["CellLocator", "InputSummary", "Responses"]

_PROB_TOLERANCE = 1e-6
_SHOW = 5

CellLocator = Callable[[np.ndarray, np.ndarray], str]
"""Describes offending cells, given their item and agent positions, for an error message
(a file reader passes one that names the file's rows)."""


@dataclass(frozen=True)
class InputSummary:
    """What was read and what was used, so nothing is left out silently.

    Attributes:
        source: where the data came from (a file path or ``"<arrays>"``).
        rows_read: rows in the input table (cells for array input).
        rows_used: rows that became an observed (item, agent) cell.
        left_out: reason -> number of rows not used for that reason.
        notes: other remarks on the input (attributes, vocabulary, unmatched agents).
        answer_normalization: how answers were compared with gold labels (``none``,
            ``text`` or ``number``), when a reader compared them.
    """

    source: str
    rows_read: int
    rows_used: int
    left_out: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    answer_normalization: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "left_out": dict(self.left_out),
            "notes": list(self.notes),
        }
        if self.answer_normalization is not None:
            out["answer_normalization"] = self.answer_normalization
        return out


@dataclass(frozen=True, eq=False)
class Responses:
    """Results of ``n_agents`` agents on ``n_items`` items, as dense arrays.

    Build one with `from_arrays` (the validating constructor every source goes through),
    `from_long`, or a reader in `monoculture.io`; never by calling the class directly.

    Attributes:
        item_ids: ``(n_items,)`` item identifiers, unique.
        agents: ``(n_agents,)`` agent names, unique strings.
        correct: ``(n_items, n_agents)`` int8, 1 = right, 0 = wrong (0 where not observed).
        observed: ``(n_items, n_agents)`` bool, True where the agent was scored on the item.
        answers: ``(n_items, n_agents)`` int32 codes into ``labels``; -1 = no answer (not
            observed, or observed but unparsed). ``None`` when only correctness is known.
        labels: the answer vocabulary (strings); empty when neither answers nor gold exist.
        gold: ``(n_items,)`` int32 codes into ``labels``; -1 where unknown; or ``None``.
        probs: ``(n_items, n_agents, n_options)`` float64 probabilities over options, option
            k being ``labels[k]``; NaN where not observed; or ``None``.
        confidence: ``(n_items, n_agents)`` float64 in [0, 1], NaN where absent; or ``None``.
        item_attrs: one row per item (index = item id): category, n_options, round, ...
        agent_attrs: one row per agent (index = agent): family, developer, ...
        cell_attrs: name -> ``(n_items, n_agents)`` object array of per-row extra columns.
        input_summary: rows read, used and left out, with reasons.

    Invariants (checked by `from_arrays`): where answers and gold are both known,
    ``correct == (answers == gold)``; every observed probability row is a distribution; at
    least two agents and one item.
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
        for name in (
            "item_ids",
            "agents",
            "correct",
            "observed",
            "answers",
            "gold",
            "probs",
            "confidence",
        ):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

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
        return np.asarray((self.correct == 0) & self.observed, dtype=np.float64)

    @property
    def answered(self) -> np.ndarray:
        """``(n_items, n_agents)`` bool: observed and gave a parseable answer."""
        if self.answers is None:
            return self.observed.copy()
        return np.asarray(self.answers >= 0)

    @property
    def complete_items(self) -> np.ndarray:
        """``(n_items,)`` bool: items that every agent was scored on."""
        return np.asarray(self.observed.all(axis=1))

    def option_counts(self) -> np.ndarray | None:
        """``(n_items,)`` number of answer options per item, when known.

        From the item attribute ``n_options`` if given, else the probabilities' length, else
        the vocabulary size when answers are known; ``None`` when nothing says.

        Example:
            >>> Responses.from_arrays(answers=[[0, 1]], gold=[0], labels="ABCD").option_counts()
            array([4])
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
        """A new `Responses` restricted to the given item and agent positions or masks.

        A subset of valid data is valid, so this needs no new checks.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0, 1], [0, 0, 1]])
            >>> r.select(agents=[0, 2]).agents.tolist()
            ['agent_0', 'agent_2']
        """
        item_index = np.arange(self.n_items) if items is None else np.asarray(items)
        agent_index = np.arange(self.n_agents) if agents is None else np.asarray(agents)
        if item_index.dtype == bool:
            item_index = np.flatnonzero(item_index)
        if agent_index.dtype == bool:
            agent_index = np.flatnonzero(agent_index)
        grid = np.ix_(item_index, agent_index)

        def cells(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else np.array(array[grid])

        return replace(
            self,
            item_ids=np.array(self.item_ids[item_index]),
            agents=np.array(self.agents[agent_index]),
            correct=np.array(self.correct[grid]),
            observed=np.array(self.observed[grid]),
            answers=cells(self.answers),
            gold=None if self.gold is None else np.array(self.gold[item_index]),
            probs=cells(self.probs),
            confidence=cells(self.confidence),
            item_attrs=self.item_attrs.iloc[item_index],
            agent_attrs=self.agent_attrs.iloc[agent_index],
            cell_attrs={k: np.array(v[grid]) for k, v in self.cell_attrs.items()},
        )

    def sample_agents(self, n: int, *, seed: int = 0) -> Responses:
        """A random sample of ``n`` agents (in their order here), noted in the summary;
        all agents when ``n`` is at least their number.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0, 1, 0]])
            >>> r.sample_agents(2, seed=1).n_agents
            2
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise InputError(f"sample_agents: `n` must be an integer >= 2; got {n!r}.")
        if n >= self.n_agents:
            return self
        chosen = np.sort(np.random.default_rng(seed).choice(self.n_agents, n, replace=False))
        note = f"a random sample of {n:,} of the {self.n_agents:,} agents (seed {seed})"
        return replace(self.select(agents=chosen), input_summary=self._noted([note]))

    def complete_only(self) -> Responses:
        """Only the items that every agent was scored on.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0], [1, float("nan")]])
            >>> r.complete_only().n_items
            1
        """
        return self.select(items=self.complete_items)

    # ------------------------------------------------------------------ attributes
    def with_agent_attributes(
        self, table: pd.DataFrame, *, agent_col: str = "agent", source: str = "agent table"
    ) -> Responses:
        """Attach agent attributes (one row per agent) from a table such as ``agents.csv``.

        Agents are matched by their names as text. Agents absent from the table get missing
        attributes; agents in the table with no responses are ignored. Both are reported
        in ``input_summary.notes``. Columns already present and absent from the table stay.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0]], agents=["a", "b"])
            >>> table = pd.DataFrame({"agent": ["a", "b"], "family": ["x", "y"]})
            >>> r.with_agent_attributes(table).agent_attrs["family"].tolist()
            ['x', 'y']
        """
        attrs, notes = _attach(table, agent_col, self.agents, self.agent_attrs, "agent", source)
        return replace(self, agent_attrs=attrs, input_summary=self._noted(notes))

    def with_item_attributes(
        self, table: pd.DataFrame, *, item_col: str = "item_id", source: str = "item table"
    ) -> Responses:
        """Attach item attributes (one row per item) from a table such as ``items.csv``.

        Items are matched by their ids as text, so ``70`` and ``"70"`` are one item; the
        rules and notes are those of `with_agent_attributes`.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0], [0, 0]], items=["q1", "q2"])
            >>> table = pd.DataFrame({"item_id": ["q2", "q1"], "category": ["law", "math"]})
            >>> r.with_item_attributes(table).item_attrs["category"].tolist()
            ['math', 'law']
        """
        attrs, notes = _attach(table, item_col, self.item_ids, self.item_attrs, "item", source)
        return replace(self, item_attrs=attrs, input_summary=self._noted(notes))

    def _noted(self, notes: list[str]) -> InputSummary:
        return replace(self.input_summary, notes=(*self.input_summary.notes, *notes))

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_arrays(
        cls,
        correct: Any = None,
        *,
        answers: Any = None,
        gold: Any = None,
        probs: Any = None,
        confidence: Any = None,
        agents: Sequence[str] | None = None,
        items: Sequence[Any] | np.ndarray | None = None,
        labels: Sequence[str] | None = None,
        agent_attrs: pd.DataFrame | None = None,
        item_attrs: pd.DataFrame | None = None,
        cell_attrs: Mapping[str, np.ndarray] | None = None,
        input_summary: InputSummary | None = None,
        locate: CellLocator | None = None,
        strict_scoring: bool = False,
    ) -> Responses:
        """Build from dense arrays of shape ``(n_items, n_agents)``: the one validating
        constructor, which every reader, the experiment runner and the simulator call.

        Args:
            correct: 0/1 (or bool); NaN marks a missing cell. May be omitted when
                ``answers`` and ``gold`` are given: then ``correct = answers == gold`` and
                every cell is observed.
            answers: int codes (-1 = no answer) into ``labels``.
            gold: ``(n_items,)`` int codes, -1 where unknown.
            probs: ``(n_items, n_agents, n_options)``; each observed row sums to 1.
            confidence: ``(n_items, n_agents)`` in [0, 1], NaN where absent.
            agents, items: names; default ``agent_0..``, ``0..``.
            labels: answer vocabulary; default ``"0".."K-1"``.
            agent_attrs, item_attrs: one row per agent / item, in order.
            cell_attrs: name -> ``(n_items, n_agents)`` array of per-cell values.
            input_summary: what was read and left out; default: the cells given.
            locate: describes offending cells in error messages (readers name file rows).
            strict_scoring: refuse ``correct`` values that disagree with ``answers == gold``
                (right for option letters). By default ``correct`` is the authority, since
                free-form answers are graded by rules other than equality (``75.00`` is
                ``75``), and the disagreements are counted in ``input_summary.notes``.

        Raises:
            InputError: naming the rule broken, where, and the fix.

        Example:
            >>> r = Responses.from_arrays(correct=[[1, 0], [0, 0], [1, 1]])
            >>> r.n_items, r.n_agents
            (3, 2)
        """
        summary = input_summary or InputSummary("<arrays>", 0, 0, {}, ())
        check = _Checker(summary.source, locate)
        answer_codes = None if answers is None else check.codes(answers, "answers", ndim=2)
        gold_codes = None if gold is None else check.codes(gold, "gold", ndim=1)
        if correct is None:
            if answer_codes is None or gold_codes is None:
                raise check.fail("give `correct`, or both `answers` and `gold` to derive it.")
            observed = np.ones(answer_codes.shape, dtype=bool)
            if gold_codes.shape[0] != answer_codes.shape[0]:
                raise check.fail(
                    f"`gold` needs one entry per item ({answer_codes.shape[0]}); got "
                    f"{gold_codes.shape[0]}."
                )
            correct_int = ((answer_codes == gold_codes[:, None]) & (answer_codes >= 0)).astype(
                np.int8
            )
        else:
            correct_int, observed = check.correctness(correct)
        n_items, n_agents = correct_int.shape
        check.shapes(answer_codes, gold_codes, (n_items, n_agents))
        disagreements = 0
        if answer_codes is not None:
            answer_codes = np.where(observed, answer_codes, -1)
            if gold_codes is not None:
                disagreements = check.agreement(
                    correct_int, observed, answer_codes, gold_codes, strict=strict_scoring
                )
        agent_names = check.names(
            agents, n_agents, "agents", np.array([f"agent_{k}" for k in range(n_agents)], object)
        )
        item_names = check.names(items, n_items, "items", np.arange(n_items))
        prob_cube = None if probs is None else check.distributions(probs, observed)
        label_names = check.vocabulary(labels, answer_codes, gold_codes, prob_cube)
        conf = None if confidence is None else check.confidence(confidence, observed)
        if n_agents < 2:
            raise check.fail(
                f"found {n_agents} agent(s); correlated failure needs at least 2 agents. "
                "Check the agent column (--agent-col) or add agents."
            )
        if n_items < 1:
            raise check.fail("no items with a scored response.")
        if input_summary is None:
            summary = InputSummary("<arrays>", n_items * n_agents, int(observed.sum()), {}, ())
        if disagreements:
            summary = replace(
                summary,
                notes=(
                    *summary.notes,
                    f"{disagreements} scored cell(s) have a `correct` value that disagrees with "
                    "answer == gold; `correct` was used (strict scoring refuses them).",
                ),
            )
        return cls(
            item_ids=item_names,
            agents=agent_names,
            correct=correct_int,
            observed=observed,
            answers=None if answer_codes is None else answer_codes.astype(np.int32),
            labels=label_names,
            gold=None if gold_codes is None else gold_codes.astype(np.int32),
            probs=prob_cube,
            confidence=conf,
            item_attrs=check.frame(item_attrs, item_names, "item_attrs"),
            agent_attrs=check.frame(agent_attrs, agent_names, "agent_attrs"),
            cell_attrs=check.cells(cell_attrs, (n_items, n_agents)),
            input_summary=summary,
        )

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
        answer_normalization: AnswerNormalization = "auto",
        strict_scoring: bool = False,
    ) -> Responses:
        """Build from a long table, one row per (item, agent); see
        `monoculture.io.responses_from_long` for the columns, the rules, and the two
        scoring options.

        Example:
            >>> table = pd.DataFrame({"item_id": [1, 1], "agent": ["a", "b"],
            ...                       "answer": ["A", "B"], "gold": ["A", "A"]})
            >>> Responses.from_long(table).correct.tolist()
            [[1, 0]]
        """
        # io builds on this module, so it is imported here rather than at the top.
        from monoculture.io.long_table import LongColumns, responses_from_long

        columns = LongColumns(
            item=item_col,
            agent=agent_col,
            answer=answer_col,
            correct=correct_col,
            gold=gold_col,
            probs=probs_col,
            probs_prefix=probs_prefix,
            confidence=confidence_col,
        )
        return responses_from_long(
            table,
            columns=columns,
            source=source,
            answer_normalization=answer_normalization,
            strict_scoring=strict_scoring,
        )

    def to_long(self, columns: LongColumns | None = None) -> pd.DataFrame:
        """One row per observed (item, agent) cell; the inverse of `from_long`.

        Example:
            >>> Responses.from_arrays(correct=[[1, 0]]).to_long()["correct"].tolist()
            [1, 0]
        """
        from monoculture.io.long_table import responses_to_long  # see from_long

        return responses_to_long(self, columns=columns)


# ---------------------------------------------------------------------- validation
class _Checker:
    """The rules of `Responses.from_arrays`, one method per rule; messages name the source,
    the rule, the offending cells and the fix."""

    def __init__(self, source: str, locate: CellLocator | None) -> None:
        self.source = source
        self.locate = locate

    def fail(self, message: str) -> InputError:
        prefix = "from_arrays" if self.source == "<arrays>" else self.source
        return InputError(f"{prefix}: {message}")

    def where(self, mask: np.ndarray) -> str:
        items, agents = np.nonzero(mask.reshape(mask.shape[0], -1))
        if self.locate is not None:
            return self.locate(items, agents)
        shown = list(zip(items[:_SHOW].tolist(), agents[:_SHOW].tolist(), strict=True))
        more = f" and {len(items) - _SHOW} more" if len(items) > _SHOW else ""
        return f"(item, agent) {shown}{more}"

    def codes(self, values: Any, name: str, *, ndim: int) -> np.ndarray:
        array = np.asarray(values)
        if array.ndim != ndim or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
            shape = "(n_items, n_agents)" if ndim == 2 else "(n_items,)"
            raise self.fail(
                f"`{name}` must be an integer array of codes of shape {shape} (-1 = none); "
                f"got dtype {array.dtype} and shape {array.shape}."
            )
        array = array.astype(np.int64)
        if (array < -1).any():
            raise self.fail(
                f"`{name}` codes must be >= -1 (-1 = none); found "
                f"{np.unique(array[array < -1])[:_SHOW].tolist()}."
            )
        return array

    def correctness(self, correct: Any) -> tuple[np.ndarray, np.ndarray]:
        values = np.asarray(correct, dtype=np.float64)
        if values.ndim != 2:
            raise self.fail(f"`correct` must be 2-D (n_items, n_agents); got shape {values.shape}.")
        observed = np.isfinite(values)
        bad = observed & (values != 0) & (values != 1)
        if bad.any():
            raise self.fail(
                f"`correct` must hold only 0, 1 or NaN (missing); found "
                f"{np.unique(values[bad])[:_SHOW].tolist()} at {self.where(bad)}."
            )
        return np.where(observed, values, 0).astype(np.int8), observed

    def shapes(
        self, answers: np.ndarray | None, gold: np.ndarray | None, shape: tuple[int, int]
    ) -> None:
        if answers is not None and answers.shape != shape:
            raise self.fail(
                f"`answers` has shape {answers.shape}, `correct` {shape}; they must match."
            )
        if gold is not None and gold.shape != (shape[0],):
            raise self.fail(f"`gold` needs one entry per item ({shape[0]}); got {gold.shape[0]}.")

    def agreement(
        self,
        correct: np.ndarray,
        observed: np.ndarray,
        answers: np.ndarray,
        gold: np.ndarray,
        *,
        strict: bool,
    ) -> int:
        """Cells where answer and gold are both known and ``correct`` differs from
        ``answer == gold``: refused under strict scoring, else counted."""
        known = observed & (answers >= 0) & (gold[:, None] >= 0)
        clash = known & ((answers == gold[:, None]) != correct.astype(bool))
        if strict and clash.any():
            raise self.fail(
                f"`correct` contradicts answer == gold at {self.where(clash)} (strict "
                "scoring). Fix the scoring, the answers or the gold labels; or, for answers "
                "graded by other rules than equality, drop strict scoring to use `correct`."
            )
        return int(clash.sum())

    def names(
        self, names: Sequence[Any] | np.ndarray | None, n: int, what: str, default: np.ndarray
    ) -> np.ndarray:
        if names is None:
            return default
        if what == "agents":
            array = np.empty(len(names), dtype=object)
            array[:] = [str(name) for name in names]
        else:  # item ids keep their type: 70 stays a number in saved documents
            array = np.asarray(names)
        if array.shape != (n,):
            raise self.fail(f"`{what}` needs {n} names; got {len(array)}.")
        if len(set(array.tolist())) != n:
            raise self.fail(f"`{what}` holds duplicate names; make them unique.")
        return array

    def distributions(self, probs: Any, observed: np.ndarray) -> np.ndarray:
        cube = np.array(probs, dtype=np.float64)
        n_items, n_agents = observed.shape
        if cube.ndim != 3 or cube.shape[:2] != (n_items, n_agents):
            raise self.fail(
                f"`probs` must have shape (n_items, n_agents, n_options) = "
                f"({n_items}, {n_agents}, K); got {cube.shape}."
            )
        rows = np.where(observed[:, :, None], cube, 0.0)
        finite = np.asarray(np.isfinite(rows).all(axis=2) | ~observed)
        if not finite.all():
            raise self.fail(
                f"probabilities must be numbers; {self.where(~finite)} hold missing or "
                "non-numeric values. Give a full distribution for every observed cell."
            )
        negative = np.asarray((rows < 0).any(axis=2))
        if negative.any():
            raise self.fail(
                f"probabilities must be >= 0; {self.where(negative)} have negative entries. "
                "Fix the model outputs or drop the probabilities."
            )
        sums = rows.sum(axis=2)
        off = np.asarray(observed & (np.abs(sums - 1.0) > _PROB_TOLERANCE))
        if off.any():
            raise self.fail(
                f"probabilities must sum to 1 (within {_PROB_TOLERANCE:g}); {self.where(off)} "
                f"sum to {np.round(sums[off][:_SHOW], 6).tolist()}. Normalise each row "
                "(p / p.sum()) or drop the probabilities."
            )
        cube[~observed] = np.nan
        return cube

    def vocabulary(
        self,
        labels: Sequence[str] | None,
        answers: np.ndarray | None,
        gold: np.ndarray | None,
        probs: np.ndarray | None,
    ) -> tuple[str, ...]:
        if answers is None and gold is None:
            return ()
        needed = max([0, *(int(c.max()) + 1 for c in (answers, gold) if c is not None and c.size)])
        if probs is not None:
            needed = max(needed, probs.shape[2])
        names = (
            tuple(str(label) for label in labels)
            if labels is not None
            else tuple(str(k) for k in range(needed))
        )
        if len(names) < needed:
            raise self.fail(
                f"`labels` has {len(names)} entries but the codes and probabilities need "
                f"{needed}; list every option."
            )
        return names

    def confidence(self, confidence: Any, observed: np.ndarray) -> np.ndarray:
        values = np.array(confidence, dtype=np.float64)
        if values.shape != observed.shape:
            raise self.fail(
                f"`confidence` must have shape (n_items, n_agents) = {observed.shape}; got "
                f"{values.shape}."
            )
        bad = np.isfinite(values) & ((values < 0) | (values > 1)) & observed
        bad |= np.isinf(values) & observed
        if bad.any():
            raise self.fail(
                f"confidence must be a number in [0, 1] (or missing); {self.where(bad)} are "
                "not. Rescale it or leave it empty."
            )
        values[~observed] = np.nan
        return values

    def frame(self, table: pd.DataFrame | None, index: np.ndarray, what: str) -> pd.DataFrame:
        if table is None:
            return pd.DataFrame(index=pd.Index(index))
        if len(table) != len(index):
            raise self.fail(f"`{what}` needs {len(index)} rows; got {len(table)}.")
        return table.set_axis(pd.Index(index), axis=0)

    def cells(
        self, cell_attrs: Mapping[str, np.ndarray] | None, shape: tuple[int, int]
    ) -> dict[str, np.ndarray]:
        out = {}
        for name, values in (cell_attrs or {}).items():
            array = np.asarray(values)
            if array.shape != shape:
                raise self.fail(
                    f"cell attribute {name!r} must have shape {shape}; got {array.shape}."
                )
            out[str(name)] = array
        return out


def _attach(
    table: pd.DataFrame,
    key_col: str,
    keys: np.ndarray,
    current: pd.DataFrame,
    what: Literal["agent", "item"],
    source: str,
) -> tuple[pd.DataFrame, list[str]]:
    """Attributes from ``table`` (one row per key) in the order of ``keys``, matched as text;
    columns of ``current`` that the table lacks are kept. Returns the frame and notes."""
    flag = "--agent-col" if what == "agent" else "--item-col"
    if key_col not in table.columns:
        raise InputError(
            f"{source}: no column {key_col!r} (columns: {list(table.columns)}); name the "
            f"{what} column with {flag} or add it."
        )
    names = table[key_col].astype(str).str.strip()
    duplicated = names[names.duplicated(keep=False)]
    if len(duplicated):
        raise InputError(
            f"{source}: {what}s listed more than once: {sorted(set(duplicated))[:_SHOW]}; "
            f"keep one row per {what}."
        )
    attrs = table.drop(columns=[key_col]).set_axis(names.to_numpy(), axis=0)
    wanted = [str(key) for key in keys]
    merged = attrs.reindex(wanted)
    merged.index = pd.Index(keys)
    for column in current.columns:
        if column not in merged.columns:
            merged[column] = current[column].to_numpy()
    present = set(wanted)
    unmatched = [name for name in attrs.index if name not in present]
    listed = set(attrs.index)
    without = [name for name in wanted if name not in listed]
    table_name = f"the {what} table" + ("" if source == f"{what} table" else f" {source}")
    notes = []
    if unmatched:
        notes.append(
            f"{len(unmatched)} {what}(s) in {table_name} have no responses and were "
            f"ignored: {unmatched[:_SHOW]}"
        )
    if without:
        notes.append(f"{len(without)} {what}(s) have no row in {table_name}: {without[:_SHOW]}")
    return merged, notes
