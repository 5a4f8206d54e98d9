"""The gate: hand-worked cases, a naive loop, MAPIE's Learn then Test, and the guarantee
itself over many random calibration/test splits of MMLU-Pro and of simulated swarms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from monoculture import Responses
from monoculture.errors import InputError, SchemaError, UndefinedMetricWarning
from monoculture.guard import (
    apply_gate,
    calibrate_gate,
    gate_thresholds,
    learn_then_test_p_values,
    load_gate,
    minimum_calibration_items,
    score_array,
    score_items,
)
from monoculture.io import read_responses
from monoculture.simulate import ClassificationConfig, run_classification
from tests.conftest import MMLU, requires_mmlu

N_SPLITS = 500
ALPHAS = (0.01, 0.05, 0.10)
DELTA = 0.1


def test_hoeffding_bentkus_hand_worked() -> None:
    # No failure among 45 items, alpha 0.05: Hoeffding gives exp(-45 log(1/0.95)) = 0.95^45
    # = 0.09944, Bentkus e * 0.95^45 = 0.2703; the minimum is 0.09944 <= 0.1, and 44 items
    # give 0.95^44 = 0.1047 > 0.1: so 45 is the fewest (catches an off-by-one in n_min).
    p = learn_then_test_p_values(np.array([0, 0]), 45, alpha=0.05)
    assert p[0] == pytest.approx(0.95**45, rel=1e-12)
    assert learn_then_test_p_values(np.array([0]), 44, alpha=0.05)[0] > 0.1
    assert minimum_calibration_items(alpha=0.05, delta=0.1) == 45
    # alpha 0.01: log(0.1)/log(0.99) = 229.1 -> 230; CRC needs 1/(n+1) <= alpha: 99.
    assert minimum_calibration_items(alpha=0.01, delta=0.1) == 230
    assert minimum_calibration_items(alpha=0.01, method="crc") == 99
    # 3 failures in 100 at alpha 0.1 (r < alpha): Bentkus e * P(Bin(100, .1) <= 3) and
    # Hoeffding exp(-100 h(.03, .1)) written out by hand; catches a swapped min or a
    # missing e factor.
    h = 0.03 * math.log(0.03 / 0.1) + 0.97 * math.log(0.97 / 0.9)
    expected = min(math.exp(-100 * h), math.e * stats.binom.cdf(3, 100, 0.1))
    got = learn_then_test_p_values(np.array([3]), 100, alpha=0.1)[0]
    assert got == pytest.approx(expected, rel=1e-12)


def test_toy_threshold_by_hand() -> None:
    # 200 items, scores 0.9/0.8/0.7/0.6, only the 0.6 ones wrong (50 of them). Answering
    # everything above 0.6 has 0 failures (p = 0.9^200, tiny); answering the 0.6 items too
    # has 50/200 = 25 % > alpha: not certified. So lambda = 0.6, 25 % abstention. Catches
    # ">=" for ">" (which would answer the wrong items).
    s = score_array(np.tile([0.9, 0.8, 0.7, 0.6], 50), correct=np.tile([1, 1, 1, 0], 50), name="t")
    gate = calibrate_gate(s, alpha=0.1)
    assert gate.threshold == 0.6
    assert gate.calibration_abstention_rate == 0.25
    assert gate.calibration_quiet_failure_rate == 0.0
    # At alpha 0.3 the HB p-value of 50/200 is exp(-200 h(.25, .3)) = 0.29 > 0.1: still 0.6;
    # with crc, (50 + 1) / 201 = 0.254 <= 0.3: answer everything (-inf).
    assert calibrate_gate(s, alpha=0.3).threshold == 0.6
    assert calibrate_gate(s, alpha=0.3, method="crc").threshold == -math.inf


def _naive_ltt(scores: np.ndarray, wrong: np.ndarray, alpha: float, delta: float) -> float:
    """Fixed-sequence testing written as a loop over the distinct thresholds."""
    n = len(scores)
    finite = scores[np.isfinite(scores)]
    candidates = [*sorted(set(finite.tolist()), reverse=True), -math.inf]
    chosen = math.inf
    for lam in candidates:
        answered = np.isfinite(scores) & (scores > lam)
        k = int((answered & (wrong == 1)).sum())
        r = k / n
        rr = min(r, alpha)
        h = (rr * math.log(rr / alpha) if rr > 0 else 0.0) + (1 - rr) * math.log(
            (1 - rr) / (1 - alpha)
        )
        p = min(math.exp(-n * h), math.e * stats.binom.cdf(math.ceil(n * r - 1e-9), n, alpha))
        if p > delta:
            break
        chosen = lam
    return chosen


def test_kernel_matches_naive_loop() -> None:
    # A vectorised fixed-sequence search can skip a tie group or stop one candidate late;
    # the loop above cannot. Discrete scores make many ties; NaN scores are never answered.
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(100, 400))
        scores = rng.integers(0, 12, n) / 11.0
        scores[rng.random(n) < 0.05] = np.nan
        wrong = (rng.random(n) < 0.6 * (1 - np.nan_to_num(scores))).astype(float)
        alpha = float(rng.choice([0.05, 0.1, 0.2]))
        got = gate_thresholds(scores[None], wrong[None], alpha=alpha, delta=DELTA)[0][0]
        assert got == _naive_ltt(scores, wrong, alpha, DELTA)


def test_thresholds_equal_mapie_learn_then_test() -> None:
    # MAPIE's LTT (mapie.risk_control, v1.6) on the same losses: its Hoeffding-Bentkus
    # p-values and fixed-sequence FWER control must select the same lowest threshold.
    # MAPIE answers when score >= param; ours when score > lambda: the grid given to MAPIE
    # is the next float above each candidate. Catches a p-value or ordering bug.
    from mapie.risk_control import BinaryClassificationController, BinaryRisk
    from mapie.risk_control._base_controller import ltt_procedure

    rng = np.random.default_rng(11)
    for trial in range(6):
        n = 600
        scores = np.round(rng.beta(4, 2, n), 2)
        wrong = (rng.random(n) < 0.7 * (1 - scores)).astype(float)
        alpha = (0.05, 0.1, 0.15)[trial % 3]
        lambdas = np.sort(np.unique(scores))  # answer when score > lambda
        answered = scores[None, :] > lambdas[:, None]
        risk = (answered * wrong[None, :]).mean(axis=1)
        valid, _ = ltt_procedure(
            risk[None, :],
            np.array([[alpha]]),
            DELTA,
            np.full((1, len(lambdas)), n),
            binary=False,
            fwer_method="fixed_sequence",
        )
        mapie_lambda = lambdas[min(valid[0])] if valid[0] else math.inf
        ours = gate_thresholds(scores[None], wrong[None], alpha=alpha, delta=DELTA)[0][0]
        # Our candidates also include -inf (answer all); MAPIE's grid stops at the minimum.
        if ours == -math.inf:
            ours = lambdas[0]
        assert ours == mapie_lambda

        # The controller (binary Bentkus p-value = our bound="binomial") on the quiet-failure
        # risk: occurrence = answered and wrong, over all items.
        quiet = BinaryRisk(
            risk_occurrence=lambda y_true, y_pred: (y_pred == 1) & (y_true == 0),
            risk_condition=lambda y_true, y_pred: np.ones_like(y_true, dtype=bool),
            higher_is_better=False,
        )
        grid = np.nextafter(lambdas, np.inf)
        controller = BinaryClassificationController(
            predict_function=lambda x: np.column_stack([1 - x, x]),
            risk=quiet,
            target_level=alpha,
            confidence_level=1 - DELTA,
            best_predict_param_choice="predicted_positive_fraction",
            list_predict_params=grid,
            fwer_method="fixed_sequence",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            controller.calibrate(scores, (1 - wrong).astype(int))
        binomial = gate_thresholds(
            scores[None], wrong[None], alpha=alpha, delta=DELTA, bound="binomial"
        )[0][0]
        expected = min(controller.valid_predict_params)
        assert np.nextafter(max(binomial, lambdas[0]), np.inf) == expected


def _splits(values: np.ndarray, wrong: np.ndarray, n_cal: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((N_SPLITS, len(values))), axis=1)


def _check_guarantee(values: np.ndarray, wrong: np.ndarray, n_cal: int, seed: int) -> None:
    """Over N_SPLITS random splits: LTT's test quiet-failure rate exceeds alpha in at most
    a delta share (plus 3 Monte Carlo standard errors); CRC's mean test risk <= alpha."""
    order = _splits(values, wrong, n_cal, seed)
    cal, test = order[:, :n_cal], order[:, n_cal:]
    se = math.sqrt(DELTA * (1 - DELTA) / N_SPLITS)
    for alpha in ALPHAS:
        for method in ("ltt", "crc"):
            lam, _ = gate_thresholds(
                values[cal], wrong[cal], alpha=alpha, delta=DELTA, method=method
            )
            test_values = values[test]
            with np.errstate(invalid="ignore"):
                answered = np.isfinite(test_values) & (test_values > lam[:, None])
            risk = (answered * wrong[test]).mean(axis=1)
            if method == "ltt":
                assert (risk > alpha).mean() <= DELTA + 3 * se, (alpha, (risk > alpha).mean())
            else:
                # CRC bounds the mean; its Monte Carlo error is the sd of risk over splits.
                assert risk.mean() <= alpha + 3 * risk.std() / math.sqrt(N_SPLITS), alpha
            # A gate that always abstains also satisfies the bound: it must answer something.
            assert answered.mean() > 0.05


@requires_mmlu
def test_guarantee_on_mmlu_pro() -> None:
    # Catches any bug that makes the threshold too lax (wrong p-value, ">=" for ">",
    # counting failures over answered items instead of all items).
    responses = read_responses(MMLU / "responses.csv.gz")
    scores = score_items(responses, score="agreement")
    keep = scores.labelled
    values, wrong = scores.values[keep], 1.0 - scores.correct[keep]
    _check_guarantee(values, wrong, n_cal=3000, seed=0)


def test_guarantee_on_simulated_swarms() -> None:
    # A correlated swarm from the simulator (shared lure, homogeneity 0.6), margin score.
    config = ClassificationConfig(
        n_agents=15, n_steps=1, items_per_step=4000, accuracy=0.65, homogeneity=0.6, seed=5
    )
    responses = run_classification(config).responses[0][0]
    scores = score_items(responses, score="margin")
    _check_guarantee(scores.values, 1.0 - scores.correct, n_cal=1500, seed=1)


def test_too_few_calibration_items_names_the_minimum() -> None:
    # 40 items cannot certify alpha 0.05 at delta 0.1 (45 are needed): the error says so.
    s = score_array(np.linspace(0, 1, 40), correct=np.ones(40), name="t")
    with pytest.raises(InputError, match="at least 45 are needed"):
        calibrate_gate(s, alpha=0.05, delta=0.1)
    calibrate_gate(score_array(np.linspace(0, 1, 45), correct=np.ones(45), name="t"), alpha=0.05)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, float("nan"), "0.05", True])
def test_levels_outside_unit_interval_are_refused(bad: object) -> None:
    s = score_array(np.linspace(0, 1, 100), correct=np.ones(100), name="t")
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        calibrate_gate(s, alpha=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="`delta`"):
        calibrate_gate(s, alpha=0.1, delta=bad)  # type: ignore[arg-type]


def test_gate_from_another_score_is_refused() -> None:
    r = Responses.from_arrays(answers=np.tile([[0, 0, 1]], (300, 1)), gold=np.zeros(300, int))
    gate = calibrate_gate(score_items(r, score="agreement"), alpha=0.1)
    with pytest.raises(InputError, match="calibrated on the score 'agreement'"):
        apply_gate(gate, score_items(r, score="margin"))


def test_probability_score_needs_probs_and_unknown_score_is_refused() -> None:
    r = Responses.from_arrays(answers=[[0, 1]], gold=[0])
    with pytest.raises(InputError, match="probabilities"):
        score_items(r, score="probability")
    with pytest.raises(InputError, match="must be one of"):
        score_items(r, score="votes")  # type: ignore[arg-type]


def test_gate_file_round_trip_and_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = score_array(np.tile([0.9, 0.8, 0.7, 0.6], 50), correct=np.tile([1, 1, 1, 0], 50), name="t")
    gate = calibrate_gate(s, alpha=0.1)
    path = tmp_path / "gate.json"
    gate.save(path)
    assert load_gate(path) == gate
    # Infinity (never answer) is written as a string JSON can hold and read back as inf.
    never = gate.model_copy(update={"threshold": math.inf})
    never.save(path)
    assert load_gate(path).threshold == math.inf
    path.write_text('{"schema": "monoculture.gate", "version": 9}')
    with pytest.raises(SchemaError, match="version 9"):
        load_gate(path)
    path.write_text('{"schema": "other"}')
    with pytest.raises(SchemaError, match="not a gate file"):
        load_gate(path)


def test_unlabelled_items_give_nan_with_warning() -> None:
    # Without gold nothing can be counted: NaN and a warning, never a silent 0.
    s = score_array(np.tile([0.9, 0.8, 0.7, 0.6], 50), correct=np.tile([1, 1, 1, 0], 50), name="t")
    gate = calibrate_gate(s, alpha=0.1)
    blind = score_array(np.array([0.9, 0.5]), correct=np.array([np.nan, np.nan]), name="t")
    with pytest.warns(UndefinedMetricWarning):
        result = apply_gate(gate, blind)
    assert math.isnan(result.quiet_failure_rate)
    assert result.answered.tolist() == [True, False]
