"""Item-bootstrap confidence intervals for the headline figures, in one batched computation.

Every headline figure is a function of sums over items of per-item features (counts of
pairs wrong together, plurality credit, ...). A resample of items is a vector of item
multiplicities ``w`` (``(n_resamples, n_items)``), so all resampled sums are one matrix
product ``W @ F``; each figure's formula then runs once with a leading resample axis. The
point estimate is the same formula with ``w = 1``: it equals the public metric function.
Intervals are percentile intervals (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from monoculture.metrics._agreement import icc_from_sums
from monoculture.metrics._arrays import kish_effective_agents, safe_divide
from monoculture.metrics._failures import independent_item_failure_log
from monoculture.metrics._loudness import QUIET_AGREEMENT
from monoculture.metrics._pairwise import PairCounts, kappa_kernel
from monoculture.metrics._validate import (
    Seed,
    check_count,
    check_fraction,
    make_rng,
    prepare,
    rng_label,
)
from monoculture.metrics._voting import (
    PluralityOutcome,
    _vote_options,
    independent_vote_item_probability,
    plurality_outcome,
    vote_rates,
)
from monoculture.responses import Responses

__all__ = [
    "BootstrapResult",
    "Estimate",
    "bootstrap_summary",
    "item_resample_weights",
    "run_bootstrap",
]

_BLOCK_BYTES = 128 * 2**20


@dataclass(frozen=True)
class Estimate:
    """A figure with its percentile bootstrap interval.

    Attributes:
        value: the estimate on the data as given.
        ci_low, ci_high: the interval bounds at ``level``.
        n: the number of items the figure rests on.
        method: how the interval was made (resamples, level, seed).

    Example:
        >>> Estimate(0.5, 0.4, 0.6, 100, "percentile item bootstrap").to_dict()["ci_low"]
        0.4
    """

    value: float
    ci_low: float
    ci_high: float
    n: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: undefined numbers as ``None``; ``n`` and ``method`` kept."""

        def clean(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        return {
            "value": clean(self.value),
            "ci_low": clean(self.ci_low),
            "ci_high": clean(self.ci_high),
            "n": int(self.n),
            "method": self.method,
        }


def item_resample_weights(n_items: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_resamples, n_items)`` float32 multiplicities of items drawn with replacement."""
    draws = rng.integers(0, n_items, size=(n_resamples, n_items))
    offsets = (np.arange(n_resamples) * n_items)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n_items)
    return counts.reshape(n_resamples, n_items).astype(np.float32)


def _weighted_sums(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``weights @ features`` in float64; 0/1 features go through exact float32 BLAS."""
    if features.dtype == np.float32:
        return np.asarray(weights @ features, dtype=np.float64)
    return np.asarray(weights.astype(np.float64) @ features)


def _nanmean_last(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    count = finite.sum(axis=-1)
    total = np.where(finite, values, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


_PER_RESAMPLE_ARRAYS = 14
"""float64 (resample x pair) arrays alive at once in a block: the four counts, the cached
accuracies, chance agreement and kappa, the same-wrong sums, and temporaries."""


class _PairBlocks:
    """Pairs (i < j) in blocks, so that a block's per-item pair features and its per-resample
    pair arrays together stay near 128 MB (with few items and many pairs, the resample
    arrays dominate: 1,000 agents x 3 items took 9.7 GB when only the first was counted)."""

    def __init__(self, n_agents: int, n_items: int, n_features: int, n_rows: int) -> None:
        self.upper_i, self.upper_j = np.triu_indices(n_agents, k=1)
        per_pair = max(1, n_items * n_features * 4 + n_rows * _PER_RESAMPLE_ARRAYS * 8)
        self.size = max(1, _BLOCK_BYTES // per_pair)

    def __iter__(self) -> Any:
        for start in range(0, len(self.upper_i), self.size):
            yield (self.upper_i[start : start + self.size], self.upper_j[start : start + self.size])


PAIR_SAMPLE_LIMIT = 20_000
"""Per-pair bootstrap draws are kept (for pair intervals) up to this many pairs."""


def _pair_means(
    responses: Responses, weights: np.ndarray, pair_draws: dict[str, list[np.ndarray]]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean over pairs of error consistency and of same-wrong rate, per resample row.

    When there are at most `PAIR_SAMPLE_LIMIT` pairs, each pair's values are appended to
    ``pair_draws`` (upper-triangle order) for per-pair intervals.
    """
    keep_pairs = responses.n_agents * (responses.n_agents - 1) // 2 <= PAIR_SAMPLE_LIMIT
    errors = responses.errors.astype(np.float32)
    observed = responses.observed.astype(np.float32)
    n_rows = weights.shape[0]
    kappa_total = np.zeros(n_rows)
    kappa_count = np.zeros(n_rows)
    same_total = np.zeros(n_rows)
    same_count = np.zeros(n_rows)
    answers = responses.answers
    wrong_answered = None
    if answers is not None:
        wrong_answered = (responses.correct == 0) & responses.observed & (answers >= 0)
    for i, j in _PairBlocks(responses.n_agents, responses.n_items, 6, n_rows):
        n = _weighted_sums(weights, observed[:, i] * observed[:, j])
        wrong_i = _weighted_sums(weights, errors[:, i] * observed[:, j])
        wrong_j = _weighted_sums(weights, observed[:, i] * errors[:, j])
        both = _weighted_sums(weights, errors[:, i] * errors[:, j])
        kappa = kappa_kernel(PairCounts(n, wrong_i, wrong_j, both))
        if keep_pairs:
            pair_draws.setdefault("error_consistency", []).append(kappa)
        finite = np.isfinite(kappa)
        kappa_total += np.where(finite, kappa, 0.0).sum(axis=1)
        kappa_count += finite.sum(axis=1)
        if wrong_answered is not None and answers is not None:
            both_answered = wrong_answered[:, i] & wrong_answered[:, j]
            same = both_answered & (answers[:, i] == answers[:, j])
            rate = safe_divide(
                _weighted_sums(weights, same.astype(np.float32)),
                _weighted_sums(weights, both_answered.astype(np.float32)),
            )
            if keep_pairs:
                pair_draws.setdefault("same_wrong_rate", []).append(rate)
            finite = np.isfinite(rate)
            same_total += np.where(finite, rate, 0.0).sum(axis=1)
            same_count += finite.sum(axis=1)
    mean_kappa = safe_divide(kappa_total, kappa_count)
    mean_same = safe_divide(same_total, same_count) if wrong_answered is not None else None
    return mean_kappa, mean_same


def _summary_rows(
    responses: Responses,
    weights: np.ndarray,
    quiet_threshold: float,
    outcome: PluralityOutcome,
    pair_draws: dict[str, list[np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Every headline figure for each row of item multiplicities ``weights``
    (``outcome``: the per-item plurality vote, which the weights do not change)."""
    observed = responses.observed
    errors = responses.errors
    right = (responses.correct * observed).astype(np.float32)
    scored = observed.astype(np.float32)
    out: dict[str, np.ndarray] = {}

    right_sums = _weighted_sums(weights, right)
    scored_sums = _weighted_sums(weights, scored)
    acc = safe_divide(right_sums, scored_sums)  # (R, A)
    out["best_agent_accuracy"] = np.nanmax(np.where(np.isfinite(acc), acc, -np.inf), axis=1)
    out["mean_agent_accuracy"] = _nanmean_last(acc)

    mean_kappa, mean_same = _pair_means(
        responses, weights, {} if pair_draws is None else pair_draws
    )
    out["mean_error_consistency"] = mean_kappa
    if mean_same is not None:
        out["mean_same_wrong"] = mean_same

    n_scored = observed.sum(axis=1)
    eligible = n_scored >= 2
    all_wrong = eligible & (errors.sum(axis=1) == n_scored)
    per_item = np.stack([eligible, all_wrong], axis=1).astype(np.float32)
    eligible_sums, all_wrong_sums = _weighted_sums(weights, per_item).T
    out["systemic_failure_rate"] = safe_divide(all_wrong_sums, eligible_sums)
    log_independent = independent_item_failure_log(observed[eligible], 1.0 - acc)
    out["systemic_failure_rate_independent"] = safe_divide(
        (weights[:, eligible] * np.exp(log_independent)).sum(axis=1), eligible_sums
    )

    scorable = np.isfinite(outcome.credit)
    wrong_vote = scorable & (outcome.credit == 0)
    quiet_wrong = wrong_vote & (outcome.agreement >= quiet_threshold)
    vote = np.stack(
        [scorable, np.where(scorable, outcome.credit, 0.0), wrong_vote, quiet_wrong], axis=1
    ).astype(np.float64)
    n_vote, credit, n_wrong_vote, n_quiet = _weighted_sums(weights, vote).T
    out["plurality_accuracy"] = safe_divide(credit, n_vote)
    out["quiet_failure_share"] = safe_divide(n_quiet, n_wrong_vote)
    # Same items and abstentions as the observed vote (see `independent_vote_accuracy`).
    rates = vote_rates(responses, weights)
    items = rates.scorable
    independent_vote = independent_vote_item_probability(
        observed[items],
        np.nan_to_num(rates.right),
        _vote_options(responses)[items],
        None if rates.abstain is None else np.nan_to_num(rates.abstain),
    )
    out["plurality_accuracy_independent"] = safe_divide(
        (weights[:, items] * independent_vote).sum(axis=1), weights[:, items].sum(axis=1)
    )

    complete = observed.all(axis=1)
    if complete.sum() >= 2:
        errors_complete = errors[complete].astype(np.float32)
        row = errors_complete.sum(axis=1)
        w = weights[:, complete]
        icc = icc_from_sums(
            w.sum(axis=1).astype(np.float64),
            _weighted_sums(w, row[:, None]).ravel(),
            _weighted_sums(w, (row**2)[:, None]).ravel(),
            _weighted_sums(w, errors_complete),
            responses.n_agents,
        )
        out["icc"] = icc
        out["effective_agents"] = kish_effective_agents(responses.n_agents, icc)
    return out


def _item_counts(responses: Responses, outcome: PluralityOutcome) -> dict[str, int]:
    """How many items each figure rests on."""
    observed = responses.observed
    n_any = int(observed.any(axis=1).sum())
    n_scorable = int(np.isfinite(outcome.credit).sum())
    wrong = int((outcome.credit == 0).sum())
    eligible = int((observed.sum(axis=1) >= 2).sum())
    complete = int(observed.all(axis=1).sum())
    return {
        "best_agent_accuracy": n_any,
        "mean_agent_accuracy": n_any,
        "mean_error_consistency": n_any,
        "mean_same_wrong": n_any,
        "systemic_failure_rate": eligible,
        "systemic_failure_rate_independent": eligible,
        "plurality_accuracy": n_scorable,
        "plurality_accuracy_independent": n_scorable,
        "quiet_failure_share": wrong,
        "icc": complete,
        "effective_agents": complete,
    }


@dataclass(frozen=True)
class BootstrapResult:
    """Headline estimates and, for swarms of at most `PAIR_SAMPLE_LIMIT` pairs, per-pair
    percentile intervals ``name -> (low, high)`` as ``(n_agents, n_agents)`` matrices."""

    estimates: dict[str, Estimate]
    pair_intervals: dict[str, tuple[np.ndarray, np.ndarray]]


def bootstrap_summary(
    responses: Responses,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    rng: Seed = 0,
    quiet_threshold: float = QUIET_AGREEMENT,
    complete_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Estimate]:
    """Headline figures with item-bootstrap percentile intervals.

    Items are resampled with replacement (all agents' results on an item travel together,
    keeping the correlation between agents). Resamples are processed in chunks of one
    batched computation each; ``progress(done, total)`` is called after each chunk.

    Returns:
        name -> `Estimate`; names as in the `analyze` summary.

    Example:
        >>> from monoculture.synthetic import latent_swarm
        >>> est = bootstrap_summary(latent_swarm(n_agents=4, n_items=300, seed=1), n_resamples=200)
        >>> e = est["mean_error_consistency"]
        >>> e.ci_low < e.value < e.ci_high, e.n
        (True, 300)
    """
    return run_bootstrap(
        responses,
        n_resamples=n_resamples,
        level=level,
        rng=rng,
        quiet_threshold=quiet_threshold,
        complete_only=complete_only,
        progress=progress,
    ).estimates


def _interval(draws: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring NaN draws."""
    if draws.shape[0] == 0:
        nan = np.full(draws.shape[1:], np.nan)
        return nan, nan
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        low, high = np.nanquantile(draws, [alpha, 1.0 - alpha], axis=0)
    return np.asarray(low), np.asarray(high)


def run_bootstrap(
    responses: Responses,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    rng: Seed = 0,
    quiet_threshold: float = QUIET_AGREEMENT,
    complete_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BootstrapResult:
    """`bootstrap_summary` plus per-pair intervals; see there."""
    responses = prepare(responses, "bootstrap_summary", complete_only=complete_only)
    check_fraction(level, "level", "bootstrap_summary")
    check_fraction(quiet_threshold, "quiet_threshold", "bootstrap_summary")
    check_count(n_resamples, "n_resamples", "bootstrap_summary", minimum=0)
    generator = make_rng(rng, "bootstrap_summary")
    ones = np.ones((1, responses.n_items), dtype=np.float32)
    outcome = plurality_outcome(responses)
    point = _summary_rows(responses, ones, quiet_threshold, outcome)
    samples: dict[str, list[np.ndarray]] = {name: [] for name in point}
    pair_samples: dict[str, list[np.ndarray]] = {}
    # Keep each chunk's resample-by-item arrays near a few hundred MB.
    chunk = max(1, min(n_resamples, int(2e8 // max(1, responses.n_items * 8)), 250))
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        pair_draws: dict[str, list[np.ndarray]] = {}
        rows = _summary_rows(
            responses,
            item_resample_weights(responses.n_items, size, generator),
            quiet_threshold,
            outcome,
            pair_draws,
        )
        for name, values in rows.items():
            samples[name].append(values)
        for name, blocks in pair_draws.items():
            pair_samples.setdefault(name, []).append(np.concatenate(blocks, axis=1))
        done += size
        if progress is not None:
            progress(done, n_resamples)
    alpha = (1.0 - level) / 2.0
    counts = _item_counts(responses, outcome)
    method = (
        f"percentile item bootstrap, {n_resamples} resamples, level {level:g}, {rng_label(rng)}"
    )
    estimates = {}
    for name, value in point.items():
        draws = np.concatenate(samples[name]) if samples[name] else np.zeros(0)
        low, high = _interval(draws, alpha)
        estimates[name] = Estimate(
            float(value[0]), float(low), float(high), counts.get(name, responses.n_items), method
        )
    upper_i, upper_j = np.triu_indices(responses.n_agents, k=1)
    pair_intervals = {}
    for name, blocks in pair_samples.items():
        low, high = _interval(np.concatenate(blocks), alpha)
        matrices = []
        for bound in (low, high):
            matrix = np.full((responses.n_agents, responses.n_agents), np.nan)
            matrix[upper_i, upper_j] = bound
            matrix[upper_j, upper_i] = bound
            matrices.append(matrix)
        pair_intervals[name] = (matrices[0], matrices[1])
    return BootstrapResult(estimates, pair_intervals)
