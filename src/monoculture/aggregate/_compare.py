"""Held-out comparison of aggregators: split the items, fit each method on the training
half, score its decisions on the other half."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monoculture.aggregate._base import Aggregator
from monoculture.aggregate._correlated import ClusterVote, CovarianceWeighted
from monoculture.aggregate._dawid_skene import DawidSkene, OneCoinDawidSkene
from monoculture.aggregate._decisions import Decisions
from monoculture.aggregate._dissent import consistency_matrix, minority_report
from monoculture.aggregate._selection import Selection, select_agents, top_k_agents
from monoculture.aggregate._surprisingly_popular import PREDICTION_COLUMN, SurprisinglyPopular
from monoculture.aggregate._votes import Plurality, WeightedVote
from monoculture.errors import InputError
from monoculture.responses import Responses

__all__ = [
    "AGGREGATORS",
    "DEFAULT_METHODS",
    "MIN_TRAINING_ITEMS",
    "AggregationComparison",
    "MethodResult",
    "SelectionComparison",
    "aggregator_from_dict",
    "compare_aggregators",
    "compare_selection",
    "make_aggregator",
    "split_items",
    "wilson_interval",
]

AGGREGATORS: dict[str, type[Aggregator]] = {
    "plurality": Plurality,
    "weighted": WeightedVote,
    "dawid_skene": DawidSkene,
    "one_coin": OneCoinDawidSkene,
    "cluster": ClusterVote,
    "covariance": CovarianceWeighted,
    "surprisingly_popular": SurprisinglyPopular,
}
"""Every aggregator by the name the CLI, the JSON and experiment files use."""

DEFAULT_METHODS: tuple[str, ...] = (
    "plurality",
    "weighted",
    "dawid_skene",
    "one_coin",
    "cluster",
    "covariance",
)
"""Compared by default; ``surprisingly_popular`` joins when the data has predictions."""

MIN_TRAINING_ITEMS = 10
"""Fewest training items with known gold a learning method is fitted on."""

MAJORITY = 0.5


def _json_ready(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with every non-finite float as None (JSON has no NaN)."""
    cleaned: dict[str, Any] = _cleaned(value)
    return cleaned


def _cleaned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


QUIET = 0.8  # the same threshold as monoculture.metrics.QUIET_AGREEMENT


def make_aggregator(name: str, *, seed: int = 0) -> Aggregator:
    """The aggregator called ``name`` (a key of `AGGREGATORS`), with default options."""
    if name not in AGGREGATORS:
        raise InputError(
            f"unknown aggregation method {name!r}; choose from {', '.join(AGGREGATORS)}."
        )
    return AGGREGATORS[name](seed=seed)


def aggregator_from_dict(data: Mapping[str, Any]) -> Aggregator:
    """Restore a fitted aggregator saved with ``to_dict``."""
    method = data.get("method")
    if not isinstance(method, str) or method not in AGGREGATORS:
        raise InputError(
            f"saved aggregator: `method` must be one of {', '.join(AGGREGATORS)}; got {method!r}."
        )
    return AGGREGATORS[method].from_dict(dict(data))


def wilson_interval(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); NaN when ``n == 0``.

    Example:
        >>> [round(x, 4) for x in wilson_interval(8, 10)]
        [0.4902, 0.9433]
    """
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def split_items(
    responses: Responses, *, train_share: float = 0.5, seed: int = 0
) -> tuple[Responses, Responses]:
    """A seeded random split of the items into training and held-out parts.

    Example:
        >>> r = Responses.from_arrays(correct=np.ones((10, 2)))
        >>> train, test = split_items(r, train_share=0.3)
        >>> train.n_items, test.n_items
        (3, 7)
    """
    if not (isinstance(train_share, int | float) and 0.0 < train_share < 1.0):
        raise InputError(
            f"split: the training share must be a number strictly between 0 and 1; got "
            f"{train_share!r}. Use e.g. --split 0.5."
        )
    n_train = round(train_share * responses.n_items)
    if n_train < 1 or n_train > responses.n_items - 1:
        raise InputError(
            f"split: {train_share} of {responses.n_items} items leaves no training or no "
            "held-out item; give more items or a split nearer 0.5."
        )
    order = np.random.default_rng(seed).permutation(responses.n_items)
    return (
        responses.select(items=np.sort(order[:n_train])),
        responses.select(items=np.sort(order[n_train:])),
    )


@dataclass(frozen=True)
class MethodResult:
    """One aggregator's held-out figures (fractions of the held-out items with known gold).

    Attributes:
        name: the method's name.
        accuracy, ci_low, ci_high: accuracy with its Wilson interval.
        n_items: held-out items with known gold (the denominator).
        systemic_failure: wrong, with a majority of the agents giving that wrong answer.
        quiet_failure: wrong, with at least 80 % of the agents giving it (no visible dissent).
        mean_support: mean share of the voting agents behind the decision.
        decisions: the per-item decisions.
    """

    name: str
    accuracy: float
    ci_low: float
    ci_high: float
    n_items: int
    systemic_failure: float
    quiet_failure: float
    mean_support: float
    decisions: Decisions = field(repr=False)

    @classmethod
    def of(cls, decisions: Decisions, level: float) -> MethodResult:
        known = np.isfinite(decisions.correct)
        n = int(known.sum())
        right = float(decisions.correct[known].sum())
        wrong = known & (decisions.correct == 0)
        support = np.nan_to_num(decisions.support, nan=0.0)
        low, high = wilson_interval(right, n, level)

        def share(mask: np.ndarray) -> float:
            return float(mask.sum() / n) if n else float("nan")

        return cls(
            name=decisions.method,
            accuracy=right / n if n else float("nan"),
            ci_low=low,
            ci_high=high,
            n_items=n,
            systemic_failure=share(wrong & (support > MAJORITY)),
            quiet_failure=share(wrong & (support >= QUIET)),
            mean_support=float(np.nanmean(decisions.support))
            if np.isfinite(decisions.support).any()
            else float("nan"),
            decisions=decisions,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "accuracy": {
                "value": self.accuracy,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "n": self.n_items,
                "method": "wilson",
            },
            "systemic_failure": self.systemic_failure,
            "quiet_failure": self.quiet_failure,
            "mean_support": self.mean_support,
        }


@dataclass(frozen=True)
class AggregationComparison:
    """Every method's held-out figures, the split, and the dissent on held-out items."""

    split: dict[str, Any]
    methods: tuple[MethodResult, ...]
    dissent: dict[str, float]
    fitted: tuple[Aggregator, ...] = field(repr=False)
    dissent_items: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    """`minority_report` of the held-out items (one row per item)."""

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-ready data (NaN as None); ``fitted`` holds each method's
        parameters (`aggregator_from_dict` restores them)."""
        return _json_ready(
            {
                "version": 1,
                "split": self.split,
                "methods": [m.to_dict() for m in self.methods],
                "dissent": self.dissent,
                "fitted": [a.to_dict() for a in self.fitted],
            }
        )


def _check_methods(methods: Sequence[str], train: Responses) -> list[str]:
    if isinstance(methods, str) or not methods:
        raise InputError(
            f"methods: give a list of one or more of {', '.join(AGGREGATORS)}; got {methods!r}."
        )
    unknown = [m for m in methods if m not in AGGREGATORS]
    if unknown:
        raise InputError(
            f"unknown aggregation method(s) {unknown}; choose from {', '.join(AGGREGATORS)}."
        )
    n_gold = int((train.gold >= 0).sum()) if train.gold is not None else 0
    learners = [m for m in methods if AGGREGATORS[m].needs_gold]
    if learners and n_gold < MIN_TRAINING_ITEMS:
        raise InputError(
            f"{', '.join(learners)}: need at least {MIN_TRAINING_ITEMS} training items with "
            f"known gold; the split gives {n_gold}. Give more items, a larger --split, or "
            "methods that learn without gold (plurality, dawid_skene, one_coin)."
        )
    return list(dict.fromkeys(methods))


def compare_aggregators(
    responses: Responses,
    *,
    methods: Sequence[str] | None = None,
    train_share: float = 0.5,
    seed: int = 0,
    level: float = 0.95,
) -> AggregationComparison:
    """Fit each method on a seeded training split and score it on the held-out items.

    ``methods`` defaults to `DEFAULT_METHODS`, plus ``surprisingly_popular`` when the data
    has a ``predicted_shares`` column. Options are all checked before any fitting.
    """
    if responses.answers is None:
        raise InputError(
            "aggregate: needs the agents' answers, not only correctness (an `answer` column)."
        )
    train, test = split_items(responses, train_share=train_share, seed=seed)
    if methods is None:
        methods = list(DEFAULT_METHODS)
        has_predictions = PREDICTION_COLUMN in responses.cell_attrs
        if has_predictions:
            methods.append("surprisingly_popular")
    chosen = _check_methods(methods, train)
    fitted = tuple(make_aggregator(name, seed=seed).fit(train) for name in chosen)
    results = tuple(MethodResult.of(a.predict(test), level) for a in fitted)
    report = minority_report(test, consistency=consistency_matrix(train))
    split = {
        "train_share": train_share,
        "seed": seed,
        "n_train": train.n_items,
        "n_test": test.n_items,
        "n_agents": responses.n_agents,
        "source": responses.input_summary.source,
        "level": level,
    }
    return AggregationComparison(split, results, report.summary(), fitted, report.table)


@dataclass(frozen=True)
class SelectionComparison:
    """The diverse set, the top-k set and all agents on held-out items.

    ``rows`` has one dict per set: ``set``, ``agents``, ``vote_accuracy`` (plurality,
    expected credit under a fair tie-break), ``systemic_failure`` (share of held-out items
    on which every chosen agent is wrong) and ``mean_error_consistency`` (mean pairwise
    kappa among the chosen agents on the training items).
    """

    k: int
    selection: Selection
    split: dict[str, Any]
    rows: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return _json_ready(
            {
                "version": 1,
                "k": self.k,
                "split": self.split,
                "selection": self.selection.to_dict(),
                "sets": list(self.rows),
            }
        )


def compare_selection(
    responses: Responses,
    k: int,
    *,
    objective: str = "vote_accuracy",
    search: str = "auto",
    train_share: float = 0.5,
    seed: int = 0,
) -> SelectionComparison:
    """Select ``k`` agents on a training split; compare them with the ``k`` most accurate
    (and with all agents) on the held-out items."""
    import warnings

    from monoculture.errors import UndefinedMetricWarning
    from monoculture.metrics import plurality_accuracy, systemic_failure_rate

    train, test = split_items(responses, train_share=train_share, seed=seed)
    selection = select_agents(train, k, objective=objective, search=search)  # type: ignore[arg-type]
    top = top_k_agents(train, k)
    consistency = consistency_matrix(train)
    names = [str(a) for a in responses.agents]
    rows = []
    sets = [("diverse", selection.agents), ("top_k", top), ("all", tuple(names))]
    for label, agents in sets:
        positions = np.array([names.index(a) for a in agents])
        sub = test.select(agents=positions)
        block = consistency[np.ix_(positions, positions)]
        off = block[~np.eye(len(positions), dtype=bool)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            rows.append(
                {
                    "set": label,
                    "agents": list(agents),
                    "vote_accuracy": plurality_accuracy(sub) if sub.n_agents >= 1 else np.nan,
                    "systemic_failure": systemic_failure_rate(sub)
                    if len(positions) >= 2
                    else float("nan"),
                    "mean_error_consistency": float(off.mean()) if off.size else float("nan"),
                }
            )
    split = {
        "train_share": train_share,
        "seed": seed,
        "n_train": train.n_items,
        "n_test": test.n_items,
    }
    return SelectionComparison(k, selection, split, tuple(rows))
