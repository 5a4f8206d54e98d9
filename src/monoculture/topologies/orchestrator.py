"""Orchestrator: a stronger model decomposes each word problem, weaker workers finish it.

The plan, per repetition (items: `monoculture.tasks.word_problems`, free answers):

- **Step 0.** The orchestrator (the one ``[supervisors]`` agent) is shown the whole problem
  and asked its first sub-question (``attrs["step1"]``): its decomposition, a number. The
  call is of kind ``decompose``: it is scored against the gold intermediate in the outcome
  table and stays out of the rounds' `Responses`, which hold workers' answers only. In the
  same step every worker solves the whole problem alone (round 0): the independent
  comparison.
- **Step 1.** Every worker is asked the remaining sub-question (``attrs["step2"]``) built on
  the orchestrator's number (round 1), as a question of its own: the workers share the
  orchestrator's decomposition, right or wrong. An orchestrator answer with no readable
  number (or a failed call) is not guessed: the workers are told the first step's result
  is "an unknown number of" things, and the decomposition counts as faulty.

The orchestrated swarm's answer to an item is composed from its workers' answers by
plurality: the most common readable answer; a tie gives the gold answer's share of the
tie (a fair random tie-break, as `monoculture.metrics.plurality_outcome`); no readable
answer is wrong. Round 1 is scored against the problem's final answer, so its `Responses`
measure the task, not the step.

`Orchestrator.tables` returns ``{"orchestrator": ...}``, one row per condition
(``independent``: the whole problem alone, round 0; ``orchestrated``: round 1) and subset of
items (``all``; ``decomposition right``; ``decomposition faulty``), with these columns:

- ``items``, ``workers``; ``faulty_share``: share of the items whose decomposition was
  faulty (not the gold intermediate, or unreadable); ``decomposition_accuracy`` (its Wilson
  interval in ``decomposition_ci_low``/``_high``): the orchestrator's accuracy on the first
  step; ``decomposition_unread``: share with no readable number;
- ``worker_accuracy``: share of the workers' answers (cells) that are right, with a
  percentile item-bootstrap interval (cells of an item are not independent);
- ``premise_accuracy`` (orchestrated only; NaN, not applicable, for ``independent``): share
  of the workers' answers right *given the orchestrator's number* ``x`` (``x + then``), on
  items with a readable decomposition: whether workers did their step;
- ``composed_accuracy``: accuracy of the plurality answer, Wilson interval;
- ``all_wrong_rate``: share of the items on which every worker is wrong, Wilson interval;
- ``error_consistency``: mean over worker pairs of Cohen's kappa of their error indicators
  (Geirhos et al. 2020, arXiv:2006.16736), each pair on the items both were scored on,
  percentile item-bootstrap interval; ``kappa_pairs``: pairs whose kappa is defined (two
  workers right on every shared item, or wrong on every one, agree by chance alone: their
  kappa is undefined).

Intervals are at 95 %; bootstrap intervals are NaN with ``bootstrap = 0``. Undefined values
are NaN with one `UndefinedMetricWarning` naming them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from monoculture.aggregate import wilson_interval
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.metrics import PairCounts
from monoculture.tasks.items import Item
from monoculture.tasks.word_problems import WORD_PROBLEM_ATTRS, fill_step2
from monoculture.topologies.protocol import Call, Outcome, Swarm, ask

if TYPE_CHECKING:
    from monoculture.experiment.config import ExperimentConfig

__all__ = [
    "ORCHESTRATOR_COLUMNS",
    "WORKED_EXAMPLE",
    "Orchestrator",
    "decomposition_prompt",
    "mean_pairwise_kappa",
]

ORCHESTRATOR_COLUMNS = [
    "condition",
    "subset",
    "items",
    "workers",
    "faulty_share",
    "decomposition_accuracy",
    "decomposition_ci_low",
    "decomposition_ci_high",
    "decomposition_unread",
    "worker_accuracy",
    "worker_accuracy_ci_low",
    "worker_accuracy_ci_high",
    "premise_accuracy",
    "composed_accuracy",
    "composed_ci_low",
    "composed_ci_high",
    "all_wrong_rate",
    "all_wrong_ci_low",
    "all_wrong_ci_high",
    "error_consistency",
    "error_consistency_ci_low",
    "error_consistency_ci_high",
    "kappa_pairs",
]
"""The columns of the ``orchestrator`` table, in order (see the module docstring)."""

_LEVEL = 0.95
_SUBSETS = ("all", "decomposition right", "decomposition faulty")


WORKED_EXAMPLE = (
    "Problem: Lily has 2 boxes with 5 pens in each box. She loses 3 pens. How many pens "
    "does she have now?\nFirst step: Lily has 2 boxes with 5 pens in each box. How many pens "
    "does she have?\nAnswer: 10"
)
"""Shown before every decomposition: one solved first step, so that a base model (prompted
as plain text) sees the format; Gemma 3 270M got 4 of 30 first steps right with it, 1 of 30
without (seed 0)."""


def decomposition_prompt(item: Item) -> str:
    """What the orchestrator is shown: a worked example, the whole problem, then its first
    sub-question (the answer is asked for after ``Answer:``).

    Example:
        >>> item = Item("w", "Tom has 3 bags of 4. He eats 2. How many now?", "10",
        ...             attrs={"step1": "Tom has 3 bags of 4. How many?"})
        >>> print(decomposition_prompt(item).removeprefix(WORKED_EXAMPLE).strip())
        Problem: Tom has 3 bags of 4. He eats 2. How many now?
        First step: Tom has 3 bags of 4. How many?
        Answer:
    """
    return (
        f"{WORKED_EXAMPLE}\n\nProblem: {item.question}\nFirst step: {item.attrs['step1']}\nAnswer:"
    )


def _check_items(items: Sequence[Item]) -> None:
    for item in items:
        missing = [key for key in WORD_PROBLEM_ATTRS if key not in item.attrs]
        if missing or item.options:
            raise InputError(
                f"orchestrator: item {item.id} is not a free-answer word problem (it lacks "
                f"attrs {missing or 'none'} or has options); the orchestrator needs "
                '[tasks] families = ["word_problems"] and form = "free".'
            )


@dataclass(frozen=True)
class Orchestrator:
    """Step 0: the orchestrator answers each problem's first sub-question while every
    worker solves the whole problem alone; step 1: every worker finishes from the
    orchestrator's number (see the module docstring).

    Attributes:
        bootstrap: item resamples for the bootstrap intervals (0: none).
        seed: seed of the resampling.
    """

    bootstrap: int = 0
    seed: int = 0
    needs_supervisors: ClassVar[bool] = True

    @classmethod
    def from_config(cls, config: ExperimentConfig) -> Orchestrator:
        """Checks, before any call, that there is one orchestrator, at least two workers
        and generated free-answer word problems."""
        from monoculture.tasks.probes import expand_families

        orchestrators = config.supervisor_specs()
        if len(orchestrators) != 1:
            names = ", ".join(a.name for a in orchestrators) or "none"
            raise InputError(
                f"{config.name}: topology 'orchestrator' needs exactly one orchestrator, but "
                f"the [supervisors] grid makes {len(orchestrators)} ({names}); give "
                "[supervisors] one model, one constitution, one temperature and one seed."
            )
        workers = config.worker_specs()
        if len(workers) < 2:
            raise InputError(
                f"{config.name}: topology 'orchestrator' compares workers with each other, "
                f"but [agents] makes {len(workers)} worker; give it at least two (e.g. "
                "temperatures = [0.7] and seeds = [0, 1, 2, 3, 4])."
            )
        tasks = config.tasks
        families = None if tasks.file else expand_families(tasks.families)
        if tasks.file or families != ["word_problems"] or tasks.form != "free":
            given = f"file = {tasks.file!r}" if tasks.file else f"families = {families}"
            raise InputError(
                f"{config.name}: topology 'orchestrator' needs word problems with known "
                f"sub-questions, answered freely; got [tasks] {given}, form = "
                f'{tasks.form!r}. Set [tasks] families = ["word_problems"] and form = "free".'
            )
        return cls(bootstrap=config.bootstrap, seed=config.tasks.seed)

    def next_calls(
        self, items: Sequence[Item], swarm: Swarm, history: Sequence[Sequence[Outcome]]
    ) -> list[Call] | None:
        if not history:
            _check_items(items)
            if len(swarm.supervisors) != 1:
                raise InputError(
                    "orchestrator: needs exactly one orchestrator in the swarm's supervisors; "
                    f"got {len(swarm.supervisors)}."
                )
            orchestrator = swarm.supervisors[0]
            decompose = [
                ask(
                    orchestrator,
                    replace(item, question=item.attrs["step1"], answer=item.attrs["intermediate"]),
                    0,
                    decomposition_prompt(item),
                    kind="decompose",
                )
                for item in items
            ]
            alone = [ask(worker, item, 0) for worker in swarm.workers for item in items]
            return decompose + alone
        if len(history) > 1:
            return None
        given = {o.call.item.id: o.answer for o in history[0] if o.call.kind == "decompose"}
        return [
            ask(worker, replace(item, question=fill_step2(item, given.get(item.id))), 1)
            for worker in swarm.workers
            for item in items
        ]

    def tables(self, outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return {
            "orchestrator": orchestrator_table(outcomes, bootstrap=self.bootstrap, seed=self.seed)
        }


# --------------------------------------------------------------------------- figures
def mean_pairwise_kappa(
    errors: np.ndarray, observed: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean over agent pairs of Cohen's kappa of the error indicators, per row of weights.

    ``errors`` and ``observed`` are ``(n_items, n_agents)`` 0/1 (errors 0 where not
    observed); ``weights`` is ``(n_resamples, n_items)`` item multiplicities (a row of ones
    for the data as given). Returns the mean over the pairs with a defined kappa
    ``(n_resamples,)`` (NaN where none is) and their number ``(n_resamples,)``. Every pair
    comes from three weighted matrix products; no loop over pairs.

    Example:
        >>> e = np.array([[1, 1], [0, 0], [1, 0], [0, 0]], float)
        >>> mean, pairs = mean_pairwise_kappa(e, np.ones_like(e), np.ones((1, 4)))
        >>> round(float(mean[0]), 4), int(pairs[0])
        (0.5, 1)
    """
    e = errors.astype(np.float64)
    o = observed.astype(np.float64)
    w = weights.astype(np.float64)
    both = np.einsum("bt,ti,tj->bij", w, e, e)
    shared = np.einsum("bt,ti,tj->bij", w, o, o)
    wrong_i = np.einsum("bt,ti,tj->bij", w, e, o)
    kappa = PairCounts(shared, wrong_i, np.swapaxes(wrong_i, -1, -2), both).kappa
    upper_i, upper_j = np.triu_indices(errors.shape[1], 1)
    pairs = kappa[:, upper_i, upper_j]
    defined = np.isfinite(pairs)
    count = defined.sum(axis=1)
    total = np.where(defined, pairs, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


def _plurality_credit(answers: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """``(n_items,)`` credit of the plurality of ``answers`` ``(n_items, n_agents)`` (object
    array, None = no readable answer): 1 right, 0 wrong, the gold's share of a tie."""
    labels, codes = np.unique(answers.astype(str), return_inverse=True)
    codes = codes.reshape(answers.shape)
    readable = np.asarray(pd.notna(answers), dtype=bool)
    counts = ((codes[..., None] == np.arange(len(labels))) & readable[..., None]).sum(axis=1)
    top = counts.max(axis=1, initial=0)
    winners = (counts == top[:, None]) & (top[:, None] > 0)
    is_gold = labels[None, :] == gold.astype(str)[:, None]
    n_winners = winners.sum(axis=1)
    return np.where(
        n_winners > 0, (winners & is_gold).sum(axis=1) / np.maximum(n_winners, 1), 0.0
    ).astype(np.float64)


def _percentile(draws: np.ndarray) -> tuple[float, float]:
    finite = draws[np.isfinite(draws)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [(1 - _LEVEL) / 2, (1 + _LEVEL) / 2])
    return float(low), float(high)


def _wilson(successes: float, n: int) -> tuple[float, float]:
    return wilson_interval(successes, n, _LEVEL) if n else (float("nan"), float("nan"))


def _matrix(rows: pd.DataFrame, column: str, items: pd.Index, workers: pd.Index) -> pd.DataFrame:
    return rows.pivot(index="item_id", columns="agent", values=column).reindex(
        index=items, columns=workers
    )


def _condition_row(
    condition: str,
    subset: str,
    mask: np.ndarray,
    data: dict[str, Any],
    weights: np.ndarray,
    undefined: list[str],
) -> dict[str, Any]:
    """The figures of one condition on the items of ``mask``."""
    correct, answers = data["correct"][mask], data["answers"][mask]
    faulty, unread = data["faulty"][mask], data["unread"][mask]
    n_items, n_workers = correct.shape
    observed = np.isfinite(correct)
    errors = np.where(observed, 1.0 - np.nan_to_num(correct), 0.0)
    w = weights[:, mask]
    point = np.ones((1, n_items))
    right_cells = np.nan_to_num(correct)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy_draws = (w @ right_cells.sum(axis=1)) / (w @ observed.sum(axis=1))
        accuracy = float(right_cells.sum() / observed.sum()) if observed.any() else float("nan")
    scored = observed.any(axis=1)
    all_wrong = scored & ~(np.nan_to_num(correct) == 1).any(axis=1)
    credit = _plurality_credit(answers, data["gold"][mask])[scored]
    kappa, pairs = mean_pairwise_kappa(errors, observed, point)
    kappa_draws, _ = mean_pairwise_kappa(errors, observed, w)
    premise = np.nan
    if condition == "orchestrated":
        target = data["premise"][mask]
        readable = ~unread[:, None] & observed
        said = np.equal(answers, target[:, None]) & np.asarray(pd.notna(answers), dtype=bool)
        premise = float((said & readable).sum() / readable.sum()) if readable.any() else np.nan
    row: dict[str, Any] = {
        "condition": condition,
        "subset": subset,
        "items": n_items,
        "workers": n_workers,
        "faulty_share": float(faulty.mean()) if n_items else np.nan,
        "decomposition_accuracy": float((~faulty).mean()) if n_items else np.nan,
        "decomposition_ci_low": _wilson(float((~faulty).sum()), n_items)[0],
        "decomposition_ci_high": _wilson(float((~faulty).sum()), n_items)[1],
        "decomposition_unread": float(unread.mean()) if n_items else np.nan,
        "worker_accuracy": accuracy,
        "worker_accuracy_ci_low": _percentile(accuracy_draws)[0],
        "worker_accuracy_ci_high": _percentile(accuracy_draws)[1],
        "premise_accuracy": premise,
        "composed_accuracy": float(credit.mean()) if len(credit) else np.nan,
        "composed_ci_low": _wilson(float(credit.sum()), len(credit))[0],
        "composed_ci_high": _wilson(float(credit.sum()), len(credit))[1],
        "all_wrong_rate": float(all_wrong.sum() / scored.sum()) if scored.any() else np.nan,
        "all_wrong_ci_low": _wilson(float(all_wrong.sum()), int(scored.sum()))[0],
        "all_wrong_ci_high": _wilson(float(all_wrong.sum()), int(scored.sum()))[1],
        "error_consistency": float(kappa[0]),
        "error_consistency_ci_low": _percentile(kappa_draws)[0],
        "error_consistency_ci_high": _percentile(kappa_draws)[1],
        "kappa_pairs": int(pairs[0]),
    }
    where = f"{condition}/{subset}"
    if not n_items:
        undefined.append(f"{where}: every figure (no item in the subset)")
    elif np.isnan(kappa[0]):
        undefined.append(
            f"{where}: error_consistency (every pair of workers is right on every shared "
            "item, or wrong on every one)"
        )
    return row


def orchestrator_table(
    outcomes: pd.DataFrame, *, bootstrap: int = 0, seed: int = 0
) -> pd.DataFrame:
    """The ``orchestrator`` table of an outcome table (see the module docstring): one row
    per condition and subset, columns `ORCHESTRATOR_COLUMNS`.

    Reads the orchestrator's ``decompose`` rows (its number and the gold
    intermediate) and the workers' ``answer`` rows of rounds 0 and 1 (their answers, the
    final gold and ``correct``, NaN for a failed call). A worker's answer is right given
    the premise ``x`` when it equals ``x + (final - intermediate)``.
    """
    if not len(outcomes) or "kind" not in outcomes.columns:
        return pd.DataFrame(columns=ORCHESTRATOR_COLUMNS)
    decomposition = outcomes[outcomes["kind"] == "decompose"]
    answers = outcomes[outcomes["kind"] == "answer"]
    if not len(decomposition) or not len(answers):
        return pd.DataFrame(columns=ORCHESTRATOR_COLUMNS)
    decomposition = decomposition.drop_duplicates("item_id").set_index("item_id")
    items = pd.Index(decomposition.index, name="item_id")
    workers = pd.Index(sorted(answers["agent"].unique()), name="agent")
    said = decomposition["answer"].where(decomposition["status"] != "failed")
    unread = said.isna().to_numpy()
    intermediate = decomposition["gold"].astype(str)
    faulty = unread | (said.astype(str) != intermediate).to_numpy()
    gold = answers.drop_duplicates("item_id").set_index("item_id")["gold"].reindex(items)
    then = pd.to_numeric(gold) - pd.to_numeric(intermediate)
    premise = (pd.to_numeric(said, errors="coerce") + then).to_numpy()
    premise_text = np.array([None if np.isnan(p) else str(int(p)) for p in premise], dtype=object)
    n_resamples = max(int(bootstrap), 0)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(items), np.full(len(items), 1 / len(items)), size=n_resamples)
    rows: list[dict[str, Any]] = []
    undefined: list[str] = []
    for condition, round_ in (("independent", 0), ("orchestrated", 1)):
        of_round = answers[answers["round"] == round_]
        failed = of_round["status"] == "failed"
        text = of_round["answer"].where(~failed).astype(object)
        data = {
            "correct": _matrix(of_round, "correct", items, workers).to_numpy(dtype=np.float64),
            "answers": _matrix(of_round.assign(answer=text), "answer", items, workers)
            .astype(object)
            .where(lambda m: m.notna(), None)
            .to_numpy(),
            "gold": gold.astype(str).to_numpy(),
            "faulty": faulty,
            "unread": unread,
            "premise": premise_text,
        }
        masks = (np.ones(len(items), bool), ~faulty, faulty)
        for subset, mask in zip(_SUBSETS, masks, strict=True):
            rows.append(_condition_row(condition, subset, mask, data, draws, undefined))
    if undefined:
        warnings.warn(
            "orchestrator table: undefined values (NaN): " + "; ".join(undefined) + ".",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=ORCHESTRATOR_COLUMNS)
