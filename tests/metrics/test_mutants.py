"""Tests written to kill the mutants that survived `make mutation` (mutmut) in the metrics.

Each test names in a comment the mutant (the bug) it catches. Expected values come from
hand-worked cases, naive loops in this file, or reference libraries, never from the code
under test.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform
from sklearn.metrics import silhouette_score

from monoculture import Responses, metrics
from monoculture.errors import InputError, UndefinedMetricWarning

# Every public metric whose first argument is a `Responses` (the structure functions take a
# similarity matrix or attributes first; `aurc` is listed apart below).
RESPONSES_FIRST = sorted(
    name
    for name in metrics.__all__
    if inspect.isfunction(getattr(metrics, name))
    and name not in {"cluster_agents", "attribute_association", "aurc"}
)
ANSWER_METRICS = ["fleiss_kappa", "krippendorff_alpha", "same_wrong_rate"]


@pytest.mark.parametrize("name", RESPONSES_FIRST)
def test_a_wrong_input_type_is_an_error_naming_the_function(name: str) -> None:
    # Catches check_responses(responses, None / "XX<name>XX" / "<NAME>") in each function.
    with pytest.raises(InputError, match=rf"^{name}: expected a monoculture\.Responses; got list"):
        getattr(metrics, name)([[1, 0]])


@pytest.mark.parametrize("name", ANSWER_METRICS)
def test_an_answer_metric_without_answers_is_an_error_naming_it(name: str) -> None:
    # Catches require_answers(responses, None / "XX<name>XX") in the answer metrics.
    correct_only = Responses.from_arrays(correct=[[1, 0], [0, 1], [1, 1]])
    with pytest.raises(InputError, match=rf"^{name}: needs the agents' answers"):
        getattr(metrics, name)(correct_only)


def _undefined_warning(function: Callable[..., float], *args: object, **kwargs: object) -> str:
    """The one UndefinedMetricWarning message of a call that must return NaN."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = function(*args, **kwargs)
    assert np.isnan(value)
    messages = [str(w.message) for w in caught if issubclass(w.category, UndefinedMetricWarning)]
    assert len(messages) == 1, messages
    return messages[0]


# --- Fleiss' kappa -------------------------------------------------------------------------


def test_fleiss_kappa_without_a_complete_item_warns_naming_itself() -> None:
    # Catches warn_undefined_because("XXfleiss_kappaXX" / None, ...) and float("NAN") (same
    # value, so only the message is checked) on the no-complete-item path.
    r = Responses.from_arrays(answers=[[0, -1], [-1, 1]], gold=[0, 1])
    message = _undefined_warning(metrics.fleiss_kappa, r)
    assert message == (
        "fleiss_kappa is undefined (NaN): no item has a parsed answer from every agent."
    )


def test_fleiss_kappa_with_one_label_everywhere_warns_naming_itself() -> None:
    # Catches defined_or_warn(value, "XXfleiss_kappaXX" / None, ...) at the end of fleiss_kappa.
    r = Responses.from_arrays(answers=[[1, 1], [1, 1]], gold=[0, 1])
    message = _undefined_warning(metrics.fleiss_kappa, r)
    assert message == "fleiss_kappa is undefined (NaN): every answer is the same label."


# --- Krippendorff's alpha ------------------------------------------------------------------


def _reference_alpha(answers: np.ndarray, observed: np.ndarray) -> float:
    data = np.where(observed & (answers >= 0), answers, np.nan).T.astype(float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def test_krippendorff_alpha_complete_only_uses_only_the_complete_items() -> None:
    # Catches prepare(..., complete_only=complete_only) dropped (the option ignored).
    answers = np.array([[0, 0, 1], [1, 1, 1], [2, 0, 2], [0, 1, 0], [1, 2, 2], [2, 2, 0]])
    correct = np.array(
        [[1, 1, 0], [1, 1, 1], [1, 0, 1], [np.nan, 0, 1], [1, np.nan, 0], [1, 1, np.nan]]
    )
    r = Responses.from_arrays(correct=correct, answers=answers, gold=[0, 1, 2, 0, 1, 2])
    rows = ~np.isnan(correct).any(axis=1)
    expected = _reference_alpha(answers[rows], np.ones_like(answers[rows], dtype=bool))
    everything = _reference_alpha(answers, ~np.isnan(correct))
    assert expected != pytest.approx(everything, abs=1e-3)  # the option must matter here
    assert metrics.krippendorff_alpha(r, complete_only=True) == pytest.approx(expected, abs=1e-12)
    assert metrics.krippendorff_alpha(r) == pytest.approx(everything, abs=1e-12)


def test_krippendorff_alpha_with_a_single_pair_is_zero_not_nan() -> None:
    # Catches `if n > 1` turned into `if n > 2`: one unit with two different answers has
    # n = 2 pairable values; D_o = D_e = 2 by hand, so alpha = 1 - 2/2 = 0.
    r = Responses.from_arrays(answers=[[0, 1]], gold=[0])
    assert metrics.krippendorff_alpha(r) == pytest.approx(0.0, abs=1e-12)
    assert _reference_alpha(np.array([[0, 1]]), np.ones((1, 2), bool)) == pytest.approx(0.0)


def test_krippendorff_alpha_without_a_pairable_item_is_nan_not_one() -> None:
    # Catches the `else 0.0` turned into `else 1.0` (alpha = 1 - 0/1 = 1 reported when no
    # item has two answers) and the warning's metric name mutated.
    r = Responses.from_arrays(answers=[[0, -1], [-1, 1], [2, -1]], gold=[0, 1, 2])
    message = _undefined_warning(metrics.krippendorff_alpha, r)
    assert message == (
        "krippendorff_alpha is undefined (NaN): no item has two answers, or every pairable "
        "answer is the same label."
    )


# --- ICC and effective agents: the reason given when undefined -----------------------------


@pytest.mark.parametrize(
    ("correct", "reason"),
    [
        # One complete item: the ICC needs two.
        ([[1, 0], [np.nan, 1]], "1 item(s) were scored for every agent; it needs at least 2"),
        # Exactly two complete items and no error: the boundary `< 2` (not `<= 2`, `< 3`).
        ([[1, 1], [1, 1]], "no agent made an error on the items every agent was scored on"),
        ([[0, 0], [0, 0], [0, 0]], "every agent was wrong on every item every agent was scored on"),
        # Agent 0 always wrong, agent 1 always right: MS_items = MS_error = 0, so 0/0.
        ([[0, 1], [0, 1], [0, 1]], "the errors do not vary between items"),
    ],
)
@pytest.mark.parametrize("name", ["icc", "effective_agents"])
def test_an_undefined_icc_says_why(correct: list[list[float]], reason: str, name: str) -> None:
    # Catches _icc_reason's `< 2` -> `<= 2` / `< 3`, `not errors.any()` -> `errors.any()`,
    # the reasons' text mutated, and the metric name in the warning mutated.
    message = _undefined_warning(getattr(metrics, name), Responses.from_arrays(correct=correct))
    assert message == f"{name} is undefined (NaN): {reason}."


def test_aurc_reports_errors_under_its_own_name_or_its_curve() -> None:
    # aurc delegates to risk_coverage_curve, whose name its errors carry (listed, not a mutant).
    with pytest.raises(InputError, match=r"^(aurc|risk_coverage_curve): expected"):
        metrics.aurc([[1, 0]])  # type: ignore[arg-type]


def test_every_public_function_is_checked_for_its_name() -> None:
    # The lists above must follow `metrics.__all__` (a new metric is named in its errors).
    functions = {n for n in metrics.__all__ if inspect.isfunction(getattr(metrics, n))}
    assert set(RESPONSES_FIRST) | {"cluster_agents", "attribute_association", "aurc"} == functions
    assert all(re.fullmatch(r"[a-z_]+", name) for name in RESPONSES_FIRST)


# --- Undefined figures: a warning naming the metric, never a silent NaN ---------------------

DEGENERATE = {
    # Every agent right on every item: error-based figures are undefined.
    "all-right": Responses.from_arrays(answers=[[0, 0, 0], [1, 1, 1], [2, 2, 2]], gold=[0, 1, 2]),
    # Gold unknown everywhere: nothing can be scored.
    "no-gold": Responses.from_arrays(answers=[[0, 0, 0], [1, 1, 1], [2, 2, 1]], gold=[-1, -1, -1]),
}
# The names a function's warnings may carry besides its own.
WARNING_ALIASES = {"kappa_bounds": {"kappa_min", "kappa_max"}}


def _all_nan(result: object) -> bool:
    if isinstance(result, float):
        return bool(np.isnan(result))
    if isinstance(result, pd.DataFrame):
        numeric = result.select_dtypes("number")
        return numeric.size > 0 and bool(numeric.isna().all().all())
    if isinstance(result, tuple):
        return all(_all_nan(part) for part in result)
    return False


@pytest.mark.parametrize("case", sorted(DEGENERATE))
@pytest.mark.parametrize("name", [*RESPONSES_FIRST, "aurc"])
def test_undefined_results_warn_under_the_function_name(name: str, case: str) -> None:
    # Catches the metric name passed to prepare/_counts/agent_frame/defined_or_warn mutated
    # (None, "XX..XX", upper case) and a warning dropped for an all-NaN result.
    options = {"n_resamples": 20} if name == "bootstrap_summary" else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = getattr(metrics, name)(DEGENERATE[case], **options)
    named = {
        str(w.message).split(":")[0].split(" is undefined")[0]
        for w in caught
        if issubclass(w.category, UndefinedMetricWarning)
    }
    assert named <= {name} | WARNING_ALIASES.get(name, set())
    if _all_nan(result):
        assert named


# --- Loudness ------------------------------------------------------------------------------


def test_aurc_complete_only_drops_the_items_with_a_missing_cell() -> None:
    # Catches aurc passing complete_only=None (the option ignored). On the three complete
    # items (the docstring's example) the area is 2/3 * 1/2 + 1/3 * 2/3 = 5/9 by hand.
    r = Responses.from_arrays(correct=[[0, 0, 0], [0, 0, 1], [1, 1, 1], [0, np.nan, 0]])
    assert metrics.aurc(r, complete_only=True) == pytest.approx(5 / 9, abs=1e-12)
    # With the fourth item (a unanimous wrong vote): three items at agreement 1 (two wrong),
    # then one at 2/3 (wrong): 3/4 * 2/3 + 1/4 * 3/4 = 11/16.
    assert metrics.aurc(r) == pytest.approx(11 / 16, abs=1e-12)


@pytest.mark.parametrize("name", ["quiet_failure_share", "risk_coverage_curve"])
@pytest.mark.parametrize("threshold", [0, 0.0, -0.1, 1.0000001, 2, "0.5", None])
def test_a_threshold_outside_0_1_is_an_error_naming_the_function(
    name: str, threshold: object
) -> None:
    # Catches check_fraction's bounds (`0 < value <= 1`) loosened and the function name in
    # its message mutated.
    r = Responses.from_arrays(correct=[[0, 0, 1], [1, 1, 1]])
    with pytest.raises(InputError, match=rf"^{name}: `threshold` must be a number in \(0, 1\]"):
        getattr(metrics, name)(r, threshold=threshold)


@pytest.mark.parametrize("threshold", [1, 1.0, 1e-9])
def test_a_threshold_at_the_edges_of_0_1_is_accepted(threshold: float) -> None:
    # Catches `value <= 1.0` tightened to `< 1.0` (threshold 1 = only unanimous votes).
    r = Responses.from_arrays(correct=[[0, 0, 0], [0, 0, 1], [1, 1, 1]])
    # Wrong votes on items 1 (unanimous) and 2 (2 of 3 agree): quiet at 1 -> 1/2, at 1e-9 -> 2/2.
    expected = 0.5 if threshold == 1 else 1.0
    assert metrics.quiet_failure_share(r, threshold=threshold) == pytest.approx(expected)


# --- Bootstrap -----------------------------------------------------------------------------


def test_bootstrap_summary_complete_only_uses_only_the_complete_items() -> None:
    # Catches bootstrap_summary passing complete_only=None to run_bootstrap (option ignored).
    correct = np.array(
        [[1, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 1], [0, np.nan, 1], [np.nan, 0, 0], [1, 1, 0]]
    )
    rows = ~np.isnan(correct).any(axis=1)
    estimates = metrics.bootstrap_summary(
        Responses.from_arrays(correct=correct), n_resamples=20, complete_only=True
    )
    # Mean of the agents' accuracies on the 5 complete items, by hand: (4/5 + 4/5 + 2/5) / 3.
    assert correct[rows].mean(axis=0).mean() == pytest.approx(2 / 3)
    assert estimates["mean_agent_accuracy"].value == pytest.approx(2 / 3, abs=1e-12)
    assert estimates["mean_agent_accuracy"].n == 5
    assert estimates["best_agent_accuracy"].value == pytest.approx(4 / 5, abs=1e-12)


# --- Structure -----------------------------------------------------------------------------


def test_numeric_attribute_association_is_pearson_on_log_closeness() -> None:
    # Catches the covariance or the spread formula mutated (`c + mean`, `** 3`), the valid
    # mask dropped (`np.where(None, ...)`): the correlation must equal scipy's Pearson r
    # between similarity and -|log10 x_i - log10 x_j| over the agent pairs.
    names = list("abcde")
    rng = np.random.default_rng(3)
    upper = rng.uniform(0, 1, (5, 5))
    sim = pd.DataFrame(np.triu(upper, 1) + np.triu(upper, 1).T + np.eye(5), names, names)
    size = np.array([1.0, 3.0, 10.0, 30.0, 300.0])
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    closeness = [-abs(np.log10(size[i]) - np.log10(size[j])) for i, j in pairs]
    expected = stats.pearsonr([sim.iloc[i, j] for i, j in pairs], closeness).statistic
    table = metrics.attribute_association(
        sim, pd.DataFrame({"size": size}, index=names), n_permutations=50
    )
    row = table.iloc[0]
    assert row["kind"] == "numeric"
    assert row["n_pairs"] == 10
    assert row["correlation"] == pytest.approx(expected, abs=1e-12)


def test_a_numeric_attribute_with_no_association_has_p_value_one() -> None:
    # Catches the permutation p-value's numerator `1 + #extreme` turned into `2 + ...` (a
    # p-value above 1). Pair similarities (a,b) 0.9, (a,c) 0.5, (b,c) 0.1 and closeness
    # -1, -2, -1: the pair at distance 2 sits at the mean similarity, so r = 0 exactly, and
    # every permutation is at least as extreme: p = (1 + 99) / (1 + 99) = 1.
    names = ["a", "b", "c"]
    sim = pd.DataFrame([[1, 0.9, 0.5], [0.9, 1, 0.1], [0.5, 0.1, 1]], names, names)
    attrs = pd.DataFrame({"x": [0.0, 1.0, 2.0]}, index=names)
    row = metrics.attribute_association(sim, attrs, n_permutations=99).iloc[0]
    assert row["correlation"] == pytest.approx(0.0, abs=1e-12)
    assert row["p_value"] == 1.0


def test_untied_clusters_merge_as_scipy_average_linkage_does() -> None:
    # Catches the tie-break nudge scaled up (`* (n*n + n)` for `/`): with 60 agents it would
    # reach ~1e-2 and reorder real merges. Random distances have no ties, so the linkage must
    # equal scipy's plain average linkage, merge for merge.
    rng = np.random.default_rng(11)
    n = 60
    upper = np.triu(rng.uniform(0.0, 1.0, (n, n)), 1)
    names = [f"agent-{k:02d}" for k in range(n)]
    sim = pd.DataFrame(upper + upper.T + np.eye(n), names, names)
    clusters = metrics.cluster_agents(sim, n_clusters=4)
    reference = hierarchy.linkage(squareform(1.0 - sim.to_numpy(), checks=False), "average")
    np.testing.assert_array_equal(clusters.linkage[:, :2], reference[:, :2])
    np.testing.assert_allclose(clusters.linkage[:, 2], reference[:, 2], atol=1e-12)


def test_silhouette_of_clusters_of_two_equals_sklearn() -> None:
    # Catches the silhouette's `own_size > 1` turned into `> 2` (members of a two-agent
    # cluster scored 0); sklearn gives singletons 0 and pairs their real value.
    points = np.array([[0, 0], [0, 0.3], [5, 0], [5, 0.4], [0, 5], [0.2, 5], [5, 5]])
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    scaled = distance / distance.max()
    names = list("abcdefg")
    clusters = metrics.cluster_agents(pd.DataFrame(1.0 - scaled, names, names))
    assert clusters.n_clusters == 4  # three pairs and a singleton
    assert sorted(clusters.labels.value_counts()) == [1, 2, 2, 2]
    expected = silhouette_score(scaled, clusters.labels.to_numpy(), metric="precomputed")
    assert clusters.silhouette == pytest.approx(expected, abs=1e-12)


# --- Voting --------------------------------------------------------------------------------


def test_plurality_outcome_by_hand() -> None:
    # Catches the plurality answer replaced (`np.where(..., None, -1)`, argmax over the flat
    # array) and, for correctness-only data, agreement NaN on an item with one scored agent
    # (`n_scored > 0` -> `> 1`).
    r = Responses.from_arrays(answers=[[0, 0, 1], [1, 2, 2], [0, 1, -1]], gold=[0, 1, 0])
    assert metrics.plurality_outcome(r).answer.tolist() == [0, 2, -1]  # the last item is a 1-1 tie
    correct_only = Responses.from_arrays(correct=[[1, np.nan, np.nan], [0, 1, 1], [0, 0, 1]])
    outcome = metrics.plurality_outcome(correct_only)
    np.testing.assert_allclose(outcome.agreement, [1.0, 2 / 3, 2 / 3])
    np.testing.assert_allclose(outcome.credit, [1.0, 1.0, 0.0])


def test_vote_accuracy_curve_complete_only_drops_incomplete_items() -> None:
    # Catches vote_accuracy_curve calling prepare() without complete_only. On the four
    # complete items, by hand: singles 3/4 each; every pair ties once per item it splits
    # (credit 1/2), giving 3/4; all three agents are right by majority on every item.
    correct = [[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, np.nan]]
    curve = metrics.vote_accuracy_curve(Responses.from_arrays(correct=correct), complete_only=True)
    assert curve["vote_accuracy"].tolist() == pytest.approx([0.75, 0.75, 1.0], abs=1e-12)


def test_vote_accuracy_curve_without_gold_says_why() -> None:
    # Catches the reason dropped from the undefined warning (`warn_undefined(..., None)`).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics.vote_accuracy_curve(DEGENERATE["no-gold"])
    messages = [str(w.message) for w in caught if issubclass(w.category, UndefinedMetricWarning)]
    assert messages == [
        "vote_accuracy_curve: 3 of 3 value(s) are undefined (NaN): no item can be scored."
    ]


# --- Frames and small results --------------------------------------------------------------


def test_per_agent_and_pairwise_frames_name_their_axes() -> None:
    # Catches the index name "agent" dropped (accuracy, coverage, agent_frame) and the
    # columns name "other" of pairwise matrices.
    r = Responses.from_arrays(correct=[[1, 0], [0, 1], [1, 1]], agents=["x", "y"])
    for series in (metrics.accuracy(r), metrics.coverage(r)):
        assert series.index.name == "agent"
        assert series.index.tolist() == ["x", "y"]
    frame = metrics.error_consistency(r)
    assert (frame.index.name, frame.columns.name) == ("agent", "other")


def test_two_agents_form_one_cluster_named_cluster() -> None:
    # Catches the labels Series of the n < 3 shortcut losing its name "cluster".
    sim = pd.DataFrame([[1, 0.5], [0.5, 1]], list("ab"), list("ab"))
    clusters = metrics.cluster_agents(sim)
    assert clusters.labels.name == "cluster"
    assert clusters.labels.tolist() == [1, 1]
    assert clusters.n_clusters == 1


def test_a_non_square_similarity_is_an_error_showing_its_shape() -> None:
    # Catches the message reporting `getattr(None, "shape")` instead of the input's shape.
    with pytest.raises(InputError, match=r"got shape \(2, 3\)\.$"):
        metrics.cluster_agents(pd.DataFrame(np.ones((2, 3))))


def test_rasch_fit_complete_only_fits_only_the_complete_items() -> None:
    # Catches rasch_fit calling prepare() without complete_only (the option ignored).
    correct = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1], [0, np.nan, 1]])
    r = Responses.from_arrays(correct=correct)
    fit = metrics.rasch_fit(r, complete_only=True)
    assert fit.difficulty.shape == (4,)
    reference = metrics.rasch_fit(Responses.from_arrays(correct=correct[:4]))
    np.testing.assert_allclose(fit.ability, reference.ability, atol=1e-12)


def test_bootstrap_estimates_report_how_many_items_each_rests_on() -> None:
    # Catches `counts.get(None, n_items)` (every estimate reporting all items as its n).
    # By hand: 6 items; items 0-3 complete; the vote (correctness only) is wrong on items
    # 1 and 4, and item 5 has a single scored agent.
    correct = [[1, 1, 0], [0, 0, 1], [1, 1, 1], [0, 1, 1], [0, np.nan, 0], [np.nan, np.nan, 1]]
    estimates = metrics.bootstrap_summary(Responses.from_arrays(correct=correct), n_resamples=20)
    assert estimates["icc"].n == 4
    assert estimates["quiet_failure_share"].n == 2
    assert estimates["systemic_failure_rate"].n == 5  # items with at least two scored agents
    assert estimates["plurality_accuracy"].n == 6


def _same_wrong_naive(answers: np.ndarray, gold: np.ndarray) -> float:
    """Mean over agent pairs (i < j) of P(same wrong answer | both wrong), pairs that are
    never both wrong left out; explicit loops."""
    n_agents = answers.shape[1]
    rates = []
    for i in range(n_agents):
        for j in range(i + 1, n_agents):
            both = [k for k in range(len(gold)) if answers[k, i] != gold[k] != answers[k, j]]
            if both:
                rates.append(sum(answers[k, i] == answers[k, j] for k in both) / len(both))
    return float(np.mean(rates))


def test_bootstrap_mean_same_wrong_leaves_out_undefined_pairs() -> None:
    # Catches undefined pair rates counted as 1 (`np.where(finite, rate, 1.0)`): agent 0 is
    # never wrong, so its pairs have no rate and must not enter the mean.
    answers = np.array([[0, 1, 1, 2], [1, 1, 0, 0], [2, 0, 0, 1], [0, 2, 1, 1], [1, 0, 2, 2]])
    gold = np.array([0, 1, 2, 0, 1])
    expected = _same_wrong_naive(answers, gold)
    r = Responses.from_arrays(answers=answers, gold=gold)
    estimates = metrics.bootstrap_summary(r, n_resamples=20)
    assert estimates["mean_same_wrong"].value == pytest.approx(expected, abs=1e-12)


def test_difficulty_adjusted_kappa_is_undefined_for_an_agent_never_wrong() -> None:
    # Catches `_both_vary` accepting `wrong_j >= 0`: pairs with an agent that never errs
    # must be NaN on both sides of the matrix (the docstring's rule), not only as row i.
    rng = np.random.default_rng(4)
    correct = (rng.random((40, 4)) < 0.6).astype(float)
    correct[:, 2] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        frame = metrics.difficulty_adjusted_error_consistency(
            Responses.from_arrays(correct=correct)
        )
    values = frame.to_numpy()
    assert np.isnan(values[2, :]).all()
    assert np.isnan(values[:, 2]).all()
    assert np.isfinite(values[0, 1])


def test_pairwise_metrics_keys_match_the_single_metrics() -> None:
    # Catches a result key of pairwise_metrics renamed ("normalized_error_consistency",
    # "shared_items"): each must hold what the single function / a count by hand gives.
    r = Responses.from_arrays(correct=[[1, 0, 1], [0, 0, 1], [1, 1, np.nan], [0, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        together = metrics.pairwise_metrics(r)
        alone = metrics.normalized_error_consistency(r)
    np.testing.assert_allclose(
        np.asarray(together["normalized_error_consistency"]), alone.to_numpy(), equal_nan=True
    )
    # Shared items by hand: agent 2 misses item 2, so its pairs share 3 items, others 4.
    np.testing.assert_array_equal(
        np.asarray(together["shared_items"]), [[4, 4, 3], [4, 4, 3], [3, 3, 3]]
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # Catches the option's name in bootstrap_summary's check mutated.
        (
            lambda r: metrics.bootstrap_summary(r, quiet_threshold=0),
            r"^bootstrap_summary: `quiet_threshold` must be a number in \(0, 1\]; got 0\.$",
        ),
        # Catches the function's name in cluster_agents' n_clusters check mutated.
        (
            lambda r: metrics.cluster_agents(metrics.error_consistency(r), n_clusters=0),
            r"^cluster_agents: `n_clusters` must be an integer >= 1; got 0\.$",
        ),
        # Catches capa's missing-gold message mutated.
        (lambda r: metrics.capa(r), r"^capa: needs gold answers \(a gold column or `gold=`\)\.$"),
    ],
)
def test_option_errors_name_the_function_and_the_option(
    call: Callable[[Responses], object], message: str
) -> None:
    r = Responses.from_arrays(correct=[[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]])
    with pytest.raises(InputError, match=message):
        call(r)


def test_plurality_accuracy_without_gold_says_why() -> None:
    # Catches the reason in plurality_accuracy's undefined warning mutated.
    message = _undefined_warning(metrics.plurality_accuracy, DEGENERATE["no-gold"])
    assert message == "plurality_accuracy is undefined (NaN): no item can be scored."
