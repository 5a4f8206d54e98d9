"""Invariance of every public metric: agent order, item order and answer relabelling, on
complete data and on data with missing cells.

`INVARIANT` lists every public metric with how to read its result, and the figures that
only `analyze` computes (its summary, systemic items, top pairs); a completeness test fails
when a new public metric is not listed here.

Catches: a kernel that pairs agents by position instead of by name, a reduction that
depends on item order (e.g. a cumulative sum before sorting), a label treated as a number
(relabelling changes it), and missing cells handled by position (the gaps move with the
permutation, so a kernel that ignores the mask differs).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoculture import Analysis, Responses, analyze, metrics
from monoculture.errors import UndefinedMetricWarning
from tests.conftest import make_swarm

# kind: "scalar" (float), "agents" (Series by agent), "matrix" (agent x agent DataFrame),
# "table" (DataFrame compared as is), "partition" (cluster labels compared as a partition).
INVARIANT: dict[str, tuple[str, Callable[[Responses], Any]]] = {
    "accuracy": ("agents", metrics.accuracy),
    "coverage": ("agents", metrics.coverage),
    "error_consistency": ("matrix", metrics.error_consistency),
    "kappa_bounds": ("matrix", lambda r: metrics.kappa_bounds(r)[0] + metrics.kappa_bounds(r)[1]),
    "normalized_error_consistency": ("matrix", metrics.normalized_error_consistency),
    "error_consistency_pvalue": ("matrix", metrics.error_consistency_pvalue),
    "copy_probability": ("matrix", metrics.copy_probability),
    "capa": ("matrix", metrics.capa),
    "same_wrong_rate": ("matrix", metrics.same_wrong_rate),
    "conditional_failure": ("matrix", metrics.conditional_failure),
    "double_fault": ("matrix", metrics.double_fault),
    "yules_q": ("matrix", metrics.yules_q),
    "error_phi": ("matrix", metrics.error_phi),
    "pair_counts": ("matrix", lambda r: _pair_count_frame(r)),
    "pairwise_metrics": ("matrix", lambda r: metrics.pairwise_metrics(r)["copy_probability"]),
    "difficulty_adjusted_error_consistency": (
        "matrix",
        metrics.difficulty_adjusted_error_consistency,
    ),
    "residual_error_correlation": ("matrix", metrics.residual_error_correlation),
    "rasch_fit": (
        "agents",
        lambda r: pd.Series(
            metrics.rasch_fit(r).ability - metrics.rasch_fit(r).ability.mean(), index=r.agents
        ),
    ),
    "plurality_accuracy": ("scalar", metrics.plurality_accuracy),
    "plurality_outcome": (
        "scalar",
        lambda r: float(np.nansum(metrics.plurality_outcome(r).credit)),
    ),
    "independent_vote_accuracy": ("scalar", metrics.independent_vote_accuracy),
    # Sub-swarms are drawn by position, so only the whole swarm (the last row) is invariant.
    "vote_accuracy_curve": (
        "scalar",
        lambda r: metrics.vote_accuracy_curve(r, n_subsets=4)["vote_accuracy"].iloc[-1],
    ),
    "systemic_failure_rate": ("scalar", metrics.systemic_failure_rate),
    "independent_systemic_failure_rate": ("scalar", metrics.independent_systemic_failure_rate),
    "k_of_n_failure_curve": ("table", metrics.k_of_n_failure_curve),
    "icc": ("scalar", metrics.icc),
    "effective_agents": ("scalar", metrics.effective_agents),
    "fleiss_kappa": ("scalar", metrics.fleiss_kappa),
    "krippendorff_alpha": ("scalar", metrics.krippendorff_alpha),
    "quiet_failure_share": ("scalar", metrics.quiet_failure_share),
    "risk_coverage_curve": ("table", metrics.risk_coverage_curve),
    "aurc": ("scalar", metrics.aurc),
    # Ties between merges are broken by name, so even tied data cluster alike in any order.
    "cluster_agents": (
        "partition",
        lambda r: metrics.cluster_agents(metrics.error_consistency(r), n_clusters=2).labels,
    ),
    "attribute_association": (
        "table",
        lambda r: metrics.attribute_association(
            metrics.error_consistency(r), r.agent_attrs, n_permutations=9
        )[["attribute", "mean_shared", "mean_not_shared", "difference"]],
    ),
    # Positions are the point of this metric, so relabelling answers moves them: only the
    # number of answers counted per agent is checked here (tests/metrics/test_position.py
    # checks the shares).
    "position_bias": ("agents", lambda r: metrics.position_bias(r)["answered"]),
    "bootstrap_summary": (
        "vector",
        lambda r: [e.value for e in metrics.bootstrap_summary(r, n_resamples=0).values()],
    ),
}

# Figures only `analyze` computes (no bootstrap: resamples are drawn by item position).
ANALYZE_ONLY: dict[str, tuple[str, Callable[[Responses], Any]]] = {
    "analyze.summary": ("vector", lambda r: _summary_vector(analyze(r, bootstrap=0))),
    "analyze.systemic_items": (
        "table",
        lambda r: (
            analyze(r, bootstrap=0)
            .systemic_items[["share_wrong", "n_scored", "n_wrong"]]
            .sort_values(["share_wrong", "n_scored", "n_wrong"], ignore_index=True)
        ),
    ),
    "analyze.top_pairs": (
        "vector",
        lambda r: np.sort(analyze(r, bootstrap=0).top_pairs["error_consistency"].to_numpy()),
    ),
    "analyze.agents": ("agents", lambda r: analyze(r, bootstrap=0).agents["accuracy"]),
}


def _summary_vector(result: Analysis) -> list[float]:
    values = [result.summary.value(name) for name in type(result.summary).model_fields]
    return [np.nan if v is None else float(v) for v in values]


def _pair_count_frame(r: Responses) -> pd.DataFrame:
    counts = metrics.pair_counts(r)
    return pd.DataFrame(counts.both_wrong + 1000 * counts.n, index=r.agents, columns=r.agents)


def test_every_public_metric_is_in_the_invariance_list() -> None:
    functions = {name for name in metrics.__all__ if inspect.isfunction(getattr(metrics, name))}
    assert functions == set(INVARIANT), functions ^ set(INVARIANT)


def _permute_agents(r: Responses, order: np.ndarray) -> Responses:
    return r.select(agents=order)


def _permute_items(r: Responses, order: np.ndarray) -> Responses:
    return r.select(items=order)


def _relabel(r: Responses, mapping: np.ndarray) -> Responses:
    assert r.answers is not None
    assert r.gold is not None
    assert r.probs is not None
    answers = np.where(r.answers >= 0, mapping[np.maximum(r.answers, 0)], -1)
    gold = np.where(r.gold >= 0, mapping[np.maximum(r.gold, 0)], -1)
    probs = np.empty_like(r.probs)
    probs[:, :, mapping] = r.probs
    labels = tuple(np.array(r.labels, dtype=object)[np.argsort(mapping)])
    return replace(
        r, answers=answers.astype(np.int32), gold=gold.astype(np.int32), probs=probs, labels=labels
    )


def _compare(kind: str, before: Any, after: Any, agent_order: np.ndarray | None) -> None:
    if kind in ("scalar", "vector"):
        np.testing.assert_allclose(
            np.asarray(after, dtype=float), np.asarray(before, dtype=float), rtol=1e-7, atol=1e-9
        )
    elif kind == "agents":
        np.testing.assert_allclose(
            after.reindex(before.index).to_numpy(dtype=float),
            before.to_numpy(dtype=float),
            rtol=1e-6,
            atol=1e-7,
        )
    elif kind == "matrix":
        names = before.index
        np.testing.assert_allclose(
            after.loc[names, names].to_numpy(dtype=float),
            before.to_numpy(dtype=float),
            rtol=1e-6,
            atol=1e-7,
        )
    elif kind == "table":
        pd.testing.assert_frame_equal(
            after.reset_index(drop=True),
            before.reset_index(drop=True),
            check_exact=False,
            rtol=1e-7,
            atol=1e-9,
        )
    else:

        def blocks(labels: pd.Series) -> set[frozenset[str]]:
            return {frozenset(labels.index[labels == k]) for k in labels.unique()}

        assert blocks(after) == blocks(before)


@pytest.mark.parametrize("missing", [0.0, 0.15], ids=["complete", "with-gaps"])
@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), n_agents=st.integers(3, 5), data=st.data())
def test_metrics_are_invariant(
    missing: float, seed: int, n_agents: int, data: st.DataObject
) -> None:
    swarm = make_swarm(seed=seed, n_items=40, n_agents=n_agents, missing=missing)
    assert bool((~swarm.observed).any()) == (missing > 0)
    agent_order = np.array(data.draw(st.permutations(range(n_agents))))
    item_order = np.array(data.draw(st.permutations(range(swarm.n_items))))
    mapping = np.array(data.draw(st.permutations(range(len(swarm.labels)))))
    variants = {
        "agents": _permute_agents(swarm, agent_order),
        "items": _permute_items(swarm, item_order),
        "labels": _relabel(swarm, mapping),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for name, (kind, function) in {**INVARIANT, **ANALYZE_ONLY}.items():
            before = function(swarm)
            for variant_name, variant in variants.items():
                try:
                    _compare(kind, before, function(variant), agent_order)
                except AssertionError as error:
                    raise AssertionError(f"{name} changes under {variant_name}") from error
