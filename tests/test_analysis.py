"""`analyze` end to end on generated swarms, and its JSON document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monoculture import InputError, Responses, analyze, metrics
from monoculture.analysis import analysis_memory_gb
from monoculture.analysis_schema import SCHEMA_VERSION, AnalysisDocument, Interval
from monoculture.synthetic import latent_swarm

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


def test_summary_has_every_required_key(result) -> None:  # type: ignore[no-untyped-def]
    for key in REQUIRED_SUMMARY:
        entry = getattr(result.summary, key)
        if isinstance(entry, Interval):
            assert entry.ci_low <= entry.value <= entry.ci_high, key
            assert entry.n is not None, key
            assert 0 < entry.n <= 400, key
            assert entry.method is not None
            assert "100 resamples" in entry.method, key
        else:
            assert isinstance(entry, int), key


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
    swarm = latent_swarm(n_agents=4, n_items=100, seed=1)
    out = analyze(swarm.select(items=np.arange(100)), bootstrap=0, complete_only=True)
    assert out.summary.n_items == 100


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
