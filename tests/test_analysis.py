"""`analyze` end to end on generated swarms, and its JSON document."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from monoculture import InputError, Responses, analyze, metrics
from monoculture.analysis import analysis_memory_gb
from monoculture.analysis_schema import SCHEMA_VERSION, AnalysisDocument, Interval
from monoculture.synthetic import latent_swarm
from tests.conftest import make_swarm

REQUIRED_SUMMARY = [
    "n_items",
    "n_agents",
    "mean_error_consistency",
    "mean_same_wrong",
    "systemic_failure_rate",
    "systemic_failure_rate_independent",
    "plurality_accuracy",
    "best_agent_accuracy",
    "icc",
    "effective_agents",
    "quiet_failure_share",
]


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return analyze(
        latent_swarm(n_agents=8, n_items=400, seed=2), bootstrap=100, seed=1, synthetic=True
    )


def _naive_summary(responses: Responses) -> dict[str, float]:
    """The required summary figures from explicit loops over items and pairs, written from
    their definitions (docs/analysis-json.md), not from the package's kernels."""
    n_items, n_agents = responses.n_items, responses.n_agents
    seen, right = responses.observed, responses.correct == 1
    answers, gold = responses.answers, responses.gold
    assert answers is not None
    assert gold is not None
    kappas, same_rates = [], []
    for i, j in itertools.combinations(range(n_agents), 2):
        shared = [x for x in range(n_items) if seen[x, i] and seen[x, j]]
        a = [int(right[x, i]) for x in shared]
        b = [int(right[x, j]) for x in shared]
        if 0 < sum(a) < len(a) and 0 < sum(b) < len(b):
            kappas.append(cohen_kappa_score(a, b))
        both = [
            x
            for x in shared
            if not right[x, i] and not right[x, j] and answers[x, i] >= 0 and answers[x, j] >= 0
        ]
        if both:
            same_rates.append(np.mean([answers[x, i] == answers[x, j] for x in both]))
    accuracy = [right[seen[:, a], a].mean() for a in range(n_agents)]
    all_wrong, independent, credits, quiet, wrong_votes = 0, [], [], 0, 0
    for x in range(n_items):
        scored = [a for a in range(n_agents) if seen[x, a]]
        if len(scored) >= 2:
            all_wrong += all(not right[x, a] for a in scored)
            independent.append(np.prod([1 - accuracy[a] for a in scored]))
        if not scored:
            continue
        votes = Counter(int(answers[x, a]) for a in scored if answers[x, a] >= 0)
        top = max(votes.values(), default=0)
        winners = [label for label, count in votes.items() if count == top]
        credit = 1 / len(winners) if gold[x] in winners else 0.0
        credits.append(credit)
        if credit == 0:
            wrong_votes += 1
            quiet += top / len(scored) >= 0.8
    # ICC(3,1) of errors on complete items (Shrout & Fleiss 1979), from a two-way ANOVA.
    complete = [x for x in range(n_items) if seen[x].all()]
    y = np.array([[float(not right[x, a]) for a in range(n_agents)] for x in complete])
    n, k = y.shape
    grand = y.mean()
    ss_items = k * sum((y[r].mean() - grand) ** 2 for r in range(n))
    ss_agents = n * sum((y[:, c].mean() - grand) ** 2 for c in range(k))
    ss_error = ((y - grand) ** 2).sum() - ss_items - ss_agents
    ms_items, ms_error = ss_items / (n - 1), ss_error / ((n - 1) * (k - 1))
    icc = (ms_items - ms_error) / (ms_items + (k - 1) * ms_error)
    return {
        "n_items": n_items,
        "n_agents": n_agents,
        "mean_error_consistency": float(np.mean(kappas)),
        "mean_same_wrong": float(np.mean(same_rates)),
        "systemic_failure_rate": all_wrong / len(independent),
        "systemic_failure_rate_independent": float(np.mean(independent)),
        "plurality_accuracy": float(np.mean(credits)),
        "best_agent_accuracy": float(max(accuracy)),
        "icc": float(icc),
        # Kish's design effect, never more than n agents (ICC <= 0 counts as 0).
        "effective_agents": n_agents / (1 + (n_agents - 1) * max(icc, 0.0)),
        "quiet_failure_share": quiet / wrong_votes,
    }


def test_summary_has_every_required_key(result) -> None:  # type: ignore[no-untyped-def]
    # Catches a summary figure that has the right key and a plausible interval but the
    # wrong value (pairs counted on all items instead of shared ones, the systemic rate
    # over items scored by fewer than 2 agents, a vote ignoring unparsed answers, ICC on
    # incomplete items...): every value is checked against naive loops, on the complete
    # fixture and on a swarm with missing cells and unparsed answers.
    gappy = make_swarm(seed=3, n_items=120)
    gappy_result = analyze(gappy, bootstrap=100, seed=1)
    cases = [
        (result, latent_swarm(n_agents=8, n_items=400, seed=2)),
        (gappy_result, gappy),
    ]
    for analysis, responses in cases:
        expected = _naive_summary(responses)
        for key in REQUIRED_SUMMARY:
            entry = getattr(analysis.summary, key)
            if isinstance(entry, Interval):
                assert entry.value == pytest.approx(expected[key], abs=1e-12), key
                assert entry.ci_low <= entry.value <= entry.ci_high, key
                assert entry.n is not None, key
                assert 0 < entry.n <= responses.n_items, key
                assert entry.method is not None
                assert "100 resamples" in entry.method, key
            else:
                assert isinstance(entry, int), key
                assert entry == expected[key], key


def test_json_is_versioned_and_round_trips(result) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(result.to_json())
    assert document["schema"] == "monoculture.analysis"
    assert document["version"] == SCHEMA_VERSION
    assert document["input"]["synthetic"] is True
    parsed = AnalysisDocument.model_validate(document)
    assert parsed.summary.n_agents == 8
    matrix = np.array(document["pairwise"]["matrices"]["error_consistency"], dtype=float)
    assert matrix.shape == (8, 8)
    assert document["pairwise"]["agents"] == document["clusters"]["order"]


def test_verdict_is_labelled_synthetic(result) -> None:  # type: ignore[no-untyped-def]
    assert result.verdict.startswith("SYNTHETIC DATA: 8 agents behave like")


def test_shared_blind_spot_lowers_effective_agents() -> None:
    correlated = analyze(
        latent_swarm(n_agents=10, n_items=1500, shared_loading=2.5, seed=4), bootstrap=0
    )
    # No blind spot, only item difficulty shared: hardness alone correlates the errors.
    hardness_only = analyze(
        latent_swarm(n_agents=10, n_items=1500, shared_loading=0.0, family_loading=0.0, seed=4),
        bootstrap=0,
    )
    assert correlated.summary.effective_agents.value < 2.5
    assert (
        hardness_only.summary.effective_agents.value
        > correlated.summary.effective_agents.value + 1.5
    )
    # Regularised JML leaves a small negative bias (about -1/(n_agents - 1) at most).
    assert abs(hardness_only.summary.mean_difficulty_adjusted_error_consistency) < 0.06
    assert (
        correlated.summary.systemic_failure_rate.value
        > 10 * correlated.summary.systemic_failure_rate_independent.value
    )


def test_correctness_only_input_works() -> None:
    rng = np.random.default_rng(0)
    correct = (rng.random((300, 4)) < 0.7).astype(float)
    correct[:10, 0] = np.nan
    out = analyze(Responses.from_arrays(correct=correct), bootstrap=20)
    assert out.summary.mean_same_wrong is None
    assert out.summary.n_complete_items == 290
    json.loads(out.to_json())


def test_complete_only_restricts_items() -> None:
    # Catches complete_only being ignored (the old test used data without missing cells,
    # so it passed either way) or applied to some figures only: with 10 % missing cells,
    # 5 agents leave about 59 % of the items complete, and every figure must then equal the
    # analysis of those items alone, found here by a loop.
    swarm = make_swarm(seed=5, n_items=200, missing=0.1)
    complete = [x for x in range(swarm.n_items) if swarm.observed[x].all()]
    assert 0 < len(complete) < swarm.n_items
    out = analyze(swarm, bootstrap=50, complete_only=True, seed=2)
    subset = analyze(swarm.select(items=np.array(complete)), bootstrap=50, seed=2)
    everything = analyze(swarm, bootstrap=50, seed=2)
    assert out.summary.n_items == len(complete)
    assert out.summary.n_complete_items == len(complete)
    assert out.settings["complete_only"] is True
    differs = False
    for key in REQUIRED_SUMMARY:
        entry = getattr(out.summary, key)
        assert entry == getattr(subset.summary, key), key
        differs |= entry != getattr(everything.summary, key)
    assert differs  # the option changed something on these data
    # One figure by hand: kappa of agents 0 and 1 on the complete items (scikit-learn).
    a = swarm.correct[complete, 0].astype(int)
    b = swarm.correct[complete, 1].astype(int)
    assert out.pairwise["error_consistency"].iloc[0, 1] == pytest.approx(
        cohen_kappa_score(a, b), abs=1e-12
    )


def test_bad_options_are_rejected() -> None:
    with pytest.raises(InputError, match="bootstrap"):
        analyze(latent_swarm(n_agents=3, n_items=20), bootstrap=-1)


# Issue 9, item 2: effective agents never exceed n without saying so.
def test_negatively_correlated_errors_count_as_n_agents_not_more() -> None:
    # Catches n / (1 + (n - 1) icc) used as is: 3 agents "behaved like 12.6".
    correct = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]] * 5)
    result = analyze(Responses.from_arrays(correct=correct), bootstrap=50)
    icc = result.summary.value("icc")
    assert icc is not None
    assert icc < 0  # the ICC itself keeps its sign
    assert result.summary.value("effective_agents") == 3.0
    assert "no evidence of correlated errors" in result.verdict
    assert "behave like" not in result.verdict


def test_perfectly_anti_correlated_agents_divide_by_nothing() -> None:
    # Catches the ZeroDivisionError at icc = -1 / (n - 1) and the bootstrap's RuntimeWarning
    # (warnings are errors in this suite).
    swarm = Responses.from_arrays(correct=[[1, 0], [0, 1]] * 10)
    assert metrics.effective_agents(swarm) == 2.0
    result = analyze(swarm, bootstrap=100)
    estimate = result.summary.effective_agents
    assert estimate is not None
    assert estimate.ci_high is not None
    assert estimate.ci_high <= 2.0


def test_independent_agents_never_count_as_more_than_the_swarm() -> None:
    # Catches "5 agents behave like 8.4" on independent random data (ICC slightly < 0).
    rng = np.random.default_rng(4)
    for _ in range(10):
        swarm = Responses.from_arrays(correct=rng.integers(0, 2, (200, 5)))
        result = analyze(swarm, bootstrap=30, seed=1)
        estimate = result.summary.effective_agents
        assert estimate is not None
        assert estimate.value is not None
        assert estimate.ci_high is not None
        assert estimate.value <= 5.0
        assert estimate.ci_high <= 5.0


# Issue 9, item 4: undefined is undefined, with the true reason.
@pytest.mark.parametrize(
    ("correct", "reason"),
    [
        ([[1, 1, 1]] * 6, "no agent made an error"),
        ([[0, 0, 0]] * 6, "every agent was wrong on every item"),
    ],
    ids=["all-right", "all-wrong"],
)
def test_all_right_or_all_wrong_is_null_with_its_reason(
    correct: list[list[int]], reason: str
) -> None:
    # Catches difficulty-adjusted consistency and residual correlation printed as 1.0 when
    # nobody errs, and the verdict blaming "too few items scored by every agent".
    result = analyze(Responses.from_arrays(correct=correct), bootstrap=20)
    for name in (
        "icc",
        "effective_agents",
        "mean_error_consistency",
        "mean_difficulty_adjusted_error_consistency",
        "mean_residual_error_correlation",
    ):
        assert result.summary.value(name) is None, name
        assert name in result.undefined, name
    assert reason in result.verdict
    assert reason in result.undefined["effective_agents"]
    assert "too few" not in result.verdict
    document = json.loads(result.to_json())
    assert reason in document["undefined"]["icc"]
    assert "nan" not in result.verdict.lower()


# Issue 9, item 10: scale without surprise.
def test_too_many_agents_are_refused_up_front_with_the_estimate_and_the_flag() -> None:
    # Catches 10,000 agents x 3 items running out of memory after 44 s with a traceback.
    swarm = Responses.from_arrays(correct=np.ones((3, 10_000)))
    with pytest.raises(InputError, match=r"10,000 agents need about \d+\.\d GB") as raised:
        analyze(swarm)
    assert "--sample-agents" in str(raised.value)
    assert "--memory-limit" in str(raised.value)


def test_the_memory_estimate_bounds_a_real_run(tmp_path: Path) -> None:
    # Catches the bootstrap sizing its pair blocks by items alone: with few items and many
    # pairs the per-resample arrays took 9.7 GB for 1,000 agents (estimate: 0.5 GB).
    script = (
        "import resource, numpy as np\n"
        "from monoculture import Responses, analyze\n"
        "r = Responses.from_arrays(correct=np.random.default_rng(0).integers(0, 2, (3, 600)))\n"
        "analyze(r, bootstrap=200)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) pytest
        # process that starts this one.
        "print([int(line.split()[1]) * 1024 for line in open('/proc/self/status')\n"
        "       if line.startswith('VmHWM:')][0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    peak_gb = int(done.stdout.split()[-1]) / 1e9
    assert peak_gb <= analysis_memory_gb(3, 600), peak_gb


def test_one_label_data_is_analysed_and_capa_names_the_fix() -> None:
    # Catches analyze failing on data with a single answer label because CAPA needs the
    # number of options, with a message that named neither the file nor the flag.
    table = pd.DataFrame(
        {"item_id": [1, 1, 2, 2], "agent": ["a", "b"] * 2, "answer": "A", "gold": "A"}
    )
    responses = Responses.from_long(table, source="one-label.csv")
    result = analyze(responses, bootstrap=10)
    assert result.summary.mean_capa is None
    assert "mean_capa" in result.undefined
    with pytest.raises(InputError, match=r"one-label\.csv.*--items FILE"):
        metrics.capa(responses)
