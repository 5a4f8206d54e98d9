"""One convention for undefined results: NaN plus an `UndefinedMetricWarning` that names the
metric and the reason; `InputError` only for malformed input or options.

Catches: a metric that raises on data where it is merely undefined (so `analyze` needs a
try/except again), one that returns a silent NaN or numpy's "mean of empty slice", and an
option that is accepted unchecked and fails later (or never).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses, analyze, metrics
from monoculture.errors import ConvergenceWarning, UndefinedMetricWarning
from monoculture.report.html import render_html

nan = np.nan
# Agent 2 is never scored; no item is scored by every agent.
NO_COMPLETE_ITEM = Responses.from_arrays(correct=[[1, 0, nan], [0, nan, nan], [nan, 1, nan]])
# Gold unknown everywhere: nothing can be scored as a vote.
NO_GOLD = Responses.from_arrays(
    correct=[[0, 1], [1, 1]], answers=np.array([[0, 1], [1, 1]]), gold=np.array([-1, -1])
)
ALL_RIGHT = Responses.from_arrays(correct=[[1, 1], [1, 1], [1, 1]])
ONE_LABEL = Responses.from_arrays(answers=[[0, 0], [0, 0]], gold=[0, 0])
ONE_ITEM = Responses.from_arrays(correct=[[1, 0]])
SIMILARITY = pd.DataFrame(np.eye(3), index=list("abc"), columns=list("abc"))

CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("accuracy", lambda: metrics.accuracy(NO_COMPLETE_ITEM), "scored on no item"),
    ("icc", lambda: metrics.icc(NO_COMPLETE_ITEM), "0 item(s) were scored for every agent"),
    ("icc", lambda: metrics.icc(ONE_ITEM), "it needs at least 2"),
    ("effective_agents", lambda: metrics.effective_agents(ONE_ITEM), "it needs at least 2"),
    (
        "fleiss_kappa",
        lambda: metrics.fleiss_kappa(
            Responses.from_arrays(answers=np.array([[0, -1], [-1, 1]]), gold=np.array([0, 1]))
        ),
        "no item has a parsed answer from every agent",
    ),
    ("fleiss_kappa", lambda: metrics.fleiss_kappa(ONE_LABEL), "same label"),
    ("krippendorff_alpha", lambda: metrics.krippendorff_alpha(ONE_LABEL), "same label"),
    (
        "systemic_failure_rate",
        lambda: metrics.systemic_failure_rate(NO_COMPLETE_ITEM.select(items=[1, 2])),
        "at least 2 agents",
    ),
    (
        "independent_systemic_failure_rate",
        lambda: metrics.independent_systemic_failure_rate(NO_COMPLETE_ITEM.select(items=[1, 2])),
        "at least 2 agents",
    ),
    ("quiet_failure_share", lambda: metrics.quiet_failure_share(ALL_RIGHT), "never wrong"),
    ("plurality_accuracy", lambda: metrics.plurality_accuracy(NO_GOLD), "no item can be scored"),
    ("risk_coverage_curve", lambda: metrics.risk_coverage_curve(NO_GOLD), "gold unknown"),
    ("aurc", lambda: metrics.aurc(NO_GOLD), "gold unknown"),
    ("k_of_n_failure_curve", lambda: metrics.k_of_n_failure_curve(NO_COMPLETE_ITEM), "every agent"),
    ("error_consistency", lambda: metrics.error_consistency(ALL_RIGHT), "always right"),
    ("pairwise_metrics", lambda: metrics.pairwise_metrics(ALL_RIGHT), "error_consistency"),
    (
        "error_consistency",
        lambda: metrics.error_consistency(NO_COMPLETE_ITEM, complete_only=True),
        "complete_only",
    ),
]


@pytest.mark.parametrize(
    ("metric", "call", "reason"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_undefined_is_nan_with_a_warning_naming_metric_and_reason(
    metric: str, call: Callable[[], Any], reason: str
) -> None:
    with pytest.warns(UndefinedMetricWarning, match=metric) as caught:
        result = call()
    assert any(reason in str(w.message) for w in caught), [str(w.message) for w in caught]
    if isinstance(result, dict):
        result = result["error_consistency"]
    values = np.asarray(getattr(result, "to_numpy", lambda: result)(), dtype=float)
    assert values.size == 0 or np.isnan(values).any()


def test_analyze_reports_undefined_figures_as_null_without_warnings() -> None:
    # pytest turns warnings into errors here: analyze must absorb the expected ones.
    result = analyze(NO_COMPLETE_ITEM, bootstrap=20)
    assert result.summary.icc is None
    assert result.summary.value("systemic_failure_rate") is not None
    # The saved document and the page take undefined curve points as null.
    assert "<html" in render_html(result.to_document())
    nothing_scorable = analyze(NO_GOLD, bootstrap=20)
    assert nothing_scorable.summary.value("plurality_accuracy") is None
    assert "<html" in render_html(nothing_scorable.to_document())


def test_rasch_fit_warns_when_it_stops_early() -> None:
    swarm = Responses.from_arrays(correct=[[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 1]])
    with pytest.warns(ConvergenceWarning, match="max_iterations"):
        fit = metrics.rasch_fit(swarm, max_iterations=2)
    assert not fit.converged
    assert metrics.rasch_fit(swarm).converged


BAD_OPTIONS: list[tuple[Callable[[], Any], str]] = [
    (
        lambda: metrics.vote_accuracy_curve(ALL_RIGHT, n_subsets=0),
        "`n_subsets` must be an integer >= 1; got 0",
    ),
    (
        lambda: metrics.attribute_association(
            SIMILARITY, SIMILARITY.iloc[:, :0], n_permutations=-1
        ),
        "`n_permutations` must be an integer >= 1",
    ),
    (
        lambda: metrics.rasch_fit(ALL_RIGHT, max_iterations=0),
        "`max_iterations` must be an integer >= 1",
    ),
    (lambda: metrics.rasch_fit(ALL_RIGHT, tolerance=0.0), "`tolerance` must be a number > 0"),
    (lambda: metrics.bootstrap_summary(ALL_RIGHT, level=1.5), "`level` must be a number in (0, 1]"),
    (
        lambda: metrics.bootstrap_summary(ALL_RIGHT, n_resamples=-1),
        "`n_resamples` must be an integer >= 0",
    ),
    (lambda: metrics.vote_accuracy_curve(ALL_RIGHT, rng="seven"), "`rng` must be an int seed"),  # type: ignore[arg-type]
    (lambda: metrics.capa(ONE_LABEL, form="fuzzy"), "`form` must be one of"),  # type: ignore[arg-type]
    (
        lambda: metrics.cluster_agents(SIMILARITY, n_clusters=0),
        "`n_clusters` must be an integer >= 1",
    ),
    (lambda: analyze(ALL_RIGHT, level=0.0), "`level` must be a number in (0, 1]"),
]


@pytest.mark.parametrize(("call", "message"), BAD_OPTIONS)
def test_bad_options_fail_up_front_with_one_message_shape(
    call: Callable[[], Any], message: str
) -> None:
    with pytest.raises(InputError, match=r"^\w+: ") as raised:
        call()
    assert message in str(raised.value)


def test_rng_accepts_a_seed_or_a_generator_alike() -> None:
    swarm = Responses.from_arrays(correct=np.random.default_rng(0).integers(0, 2, (50, 6)))
    by_seed = metrics.vote_accuracy_curve(swarm, rng=5)
    by_generator = metrics.vote_accuracy_curve(swarm, rng=np.random.default_rng(5))
    assert by_seed.equals(by_generator)
