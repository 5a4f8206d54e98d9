"""The gate: answer an item when the swarm's score exceeds a threshold, else abstain and
escalate; the threshold is calibrated so that quiet failures are rare on new items.

A quiet failure on an item is the gate answering and the swarm's answer being wrong; the
quiet-failure rate is their number over all items. With the rule "answer when score >
lambda", the loss of item i is ``L_i(lambda) = 1{s_i > lambda} * wrong_i``: in [0, 1],
non-increasing and right-continuous in lambda. Its empirical risk on n calibration items is
``R_n(lambda) = k(lambda) / n``, k the quiet failures at lambda.

Two calibrations, both distribution-free for calibration and new items that are
exchangeable (e.g. a random split of one pool):

- **Learn then Test** (``method="ltt"``; Angelopoulos, Bates, Candès, Jordan & Lei 2021,
  arXiv:2110.01052; Bates et al. 2021, "Distribution-free, risk-controlling prediction
  sets", JACM, doi:10.1145/3478535): for each lambda, the null ``H_lambda: R(lambda) >
  alpha`` gets the Hoeffding-Bentkus p-value ``min(exp(-n h(min(R_n, alpha), alpha)),
  e * P(Bin(n, alpha) <= ceil(n R_n)))``, ``h(a, b) = a log(a/b) + (1-a) log((1-a)/(1-b))``;
  the nulls are tested in a fixed sequence from the most conservative lambda down and the
  gate keeps the lowest lambda before the first failure to reject. Then
  ``P(R(lambda_hat) <= alpha) >= 1 - delta`` over the calibration draw (family-wise error
  control of fixed-sequence testing; the p-values are monotone in lambda).
- **Conformal risk control** (``method="crc"``; Angelopoulos, Bates, Fisch, Lei &
  Schuster 2022, arXiv:2208.02814): ``lambda_hat = inf{lambda: n/(n+1) R_n(lambda) +
  B/(n+1) <= alpha}`` with B = 1, so that ``E[L_{n+1}(lambda_hat)] <= alpha``: the bound
  holds in expectation over calibration and new item, not with probability 1 - delta.

Lambda ranges over the real line: the lowest certified lambda is always a calibration
score (or -inf, answer everything), so the search runs over the sorted calibration scores.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import special, stats

from monoculture.errors import InputError, ReadError, SchemaError
from monoculture.guard._scores import ItemScores
from monoculture.metrics._validate import warn_undefined_because

__all__ = [
    "Bound",
    "Gate",
    "GateMethod",
    "GateResult",
    "apply_gate",
    "calibrate_gate",
    "gate_thresholds",
    "learn_then_test_p_values",
    "load_gate",
    "minimum_calibration_items",
]

GateMethod = Literal["ltt", "crc"]
Bound = Literal["hoeffding_bentkus", "binomial"]
GATE_SCHEMA = "monoculture.gate"
GATE_VERSION = 1


def _check_level(value: object, name: str, function: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.floating)
        or not (0.0 < float(value) < 1.0)
    ):
        fix = "e.g. 0.05 for 5 %" if name == "alpha" else "e.g. 0.1 for 90 % confidence"
        raise InputError(
            f"{function}: `{name}` must be a number strictly between 0 and 1 ({fix}); got "
            f"{value!r}."
        )
    return float(value)


def _check_method(method: object, bound: object, function: str) -> None:
    if method not in ("ltt", "crc"):
        raise InputError(
            f"{function}: `method` must be 'ltt' (Learn then Test: a bound with probability "
            f"1 - delta) or 'crc' (conformal risk control: a bound in expectation); got "
            f"{method!r}."
        )
    if bound not in ("hoeffding_bentkus", "binomial"):
        raise InputError(
            f"{function}: `bound` must be 'hoeffding_bentkus' (any loss in [0, 1]) or "
            f"'binomial' (exact for 0/1 losses); got {bound!r}."
        )


def learn_then_test_p_values(
    failures: np.ndarray, n: int, *, alpha: float, bound: Bound = "hoeffding_bentkus"
) -> np.ndarray:
    """p-values of ``H: risk > alpha`` given ``failures`` losses among ``n`` items.

    ``hoeffding_bentkus`` (Bates et al. 2021, Prop. 3.3/3.5, as in Learn then Test):
    ``min(exp(-n h(min(r, alpha), alpha)), e * P(Bin(n, alpha) <= ceil(n r)))``, r =
    failures / n; valid for any loss in [0, 1]. ``binomial``: ``P(Bin(n, alpha) <=
    failures)``, exact for 0/1 losses (and never larger).

    Example:
        >>> learn_then_test_p_values(np.array([0]), 45, alpha=0.05).round(4).tolist()
        [0.0994]
    """
    k = np.asarray(failures, dtype=np.float64)
    tail = stats.binom.cdf(k, n, alpha)
    if bound == "binomial":
        return np.asarray(tail, dtype=np.float64)
    r = np.minimum(k / n, alpha)
    h = special.xlogy(r, r / alpha) + special.xlogy(1.0 - r, (1.0 - r) / (1.0 - alpha))
    return np.asarray(np.minimum(np.exp(-n * h), math.e * tail), dtype=np.float64)


def minimum_calibration_items(
    *,
    alpha: float,
    delta: float = 0.1,
    method: GateMethod = "ltt",
    bound: Bound = "hoeffding_bentkus",
) -> int:
    """The fewest calibration items with which any threshold can be certified.

    LTT: even with no failure at all the p-value is ``(1 - alpha)^n``, which must be at
    most delta: ``n >= log(delta) / log(1 - alpha)``. CRC: the most conservative gate
    passes only if ``1 / (n + 1) <= alpha``: ``n >= 1/alpha - 1``.

    Example:
        >>> minimum_calibration_items(alpha=0.05, delta=0.1)
        45
        >>> minimum_calibration_items(alpha=0.05, method="crc")
        19
    """
    alpha = _check_level(alpha, "alpha", "minimum_calibration_items")
    delta = _check_level(delta, "delta", "minimum_calibration_items")
    _check_method(method, bound, "minimum_calibration_items")
    if method == "crc":
        n = max(1, math.ceil(1.0 / alpha - 1.0) - 1)
        while alpha * (n + 1) < 1.0:
            n += 1
        return n
    n = max(1, math.ceil(math.log(delta) / math.log1p(-alpha)) - 2)
    zero = np.array([0.0])
    while learn_then_test_p_values(zero, n, alpha=alpha, bound=bound)[0] > delta:
        n += 1
    return n


def gate_thresholds(
    values: np.ndarray,
    wrong: np.ndarray,
    *,
    alpha: float,
    delta: float = 0.1,
    method: GateMethod = "ltt",
    bound: Bound = "hoeffding_bentkus",
) -> tuple[np.ndarray, np.ndarray]:
    """The calibrated thresholds for a batch of calibration sets (vectorised: the batch
    kernel behind `calibrate_gate`, used directly for many random splits at once).

    Args:
        values: ``(n_sets, n)`` scores (NaN = no answer: never answered).
        wrong: ``(n_sets, n)`` 1 where the swarm's answer is wrong, else 0 (no NaN: drop
            unlabelled items first).
        alpha, delta, method, bound: as in `calibrate_gate`.

    Returns:
        ``(thresholds, failures)``: ``(n_sets,)`` lambda_hat (answer when score >
        lambda_hat; -inf answers every scored item) and the calibration quiet failures at
        it. Every set must hold at least `minimum_calibration_items` items.

    Example:
        >>> s = np.array([[0.9, 0.8, 0.7, 0.6] * 25])
        >>> w = np.array([[0, 0, 0, 1] * 25])
        >>> gate_thresholds(s, w, alpha=0.1, method="crc")[0].tolist()
        [0.6]
    """
    scores = np.asarray(values, dtype=np.float64)
    losses = np.asarray(wrong, dtype=np.float64)
    n_sets, n = scores.shape
    order = np.argsort(np.where(np.isnan(scores), np.inf, -scores), axis=1, kind="stable")
    s_sorted = np.take_along_axis(np.where(np.isnan(scores), -np.inf, scores), order, axis=1)
    w_sorted = np.take_along_axis(losses * np.isfinite(scores), order, axis=1)
    s_ext = np.concatenate([s_sorted, np.full((n_sets, 1), -np.inf)], axis=1)
    # Candidate j answers the top j items (score > s_ext[j]); only the end of a run of tied
    # scores is a threshold, and -inf scores are never answered.
    candidate = np.ones((n_sets, n + 1), dtype=bool)
    candidate[:, 1:] = s_ext[:, :-1] > s_ext[:, 1:]
    failures = np.concatenate([np.zeros((n_sets, 1)), np.cumsum(w_sorted, axis=1)], axis=1).astype(
        np.int64
    )
    if method == "ltt":
        table = learn_then_test_p_values(np.arange(n + 1), n, alpha=alpha, bound=bound)
        passes = table[failures] <= delta
    else:
        passes = (failures + 1.0) <= alpha * (n + 1.0)
    fails = candidate & ~passes
    first_fail = np.where(fails.any(axis=1), fails.argmax(axis=1), n + 1)
    last_candidate = np.maximum.accumulate(np.where(candidate, np.arange(n + 1), -1), axis=1)
    chosen = np.take_along_axis(last_candidate, np.maximum(first_fail - 1, 0)[:, None], 1)[:, 0]
    if (first_fail == 0).any():
        raise InputError(
            f"gate_thresholds: {n} calibration items cannot certify any threshold at "
            f"alpha={alpha:g}, delta={delta:g} ({method}); at least "
            f"{minimum_calibration_items(alpha=alpha, delta=delta, method=method, bound=bound)}"
            " are needed."
        )
    rows = np.arange(n_sets)
    return s_ext[rows, chosen], failures[rows, chosen]


class Gate(BaseModel):
    """A calibrated gate, as saved to ``gate.json`` (see docs/guard.md).

    The rule: answer an item when its score is strictly greater than ``threshold``, else
    abstain and escalate; ``threshold`` is ``Infinity`` (never answer) or ``-Infinity``
    (answer every item the swarm answers) in the extreme cases.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="strings")

    schema_name: Literal["monoculture.gate"] = Field(
        default="monoculture.gate", alias="schema", description="Always 'monoculture.gate'."
    )
    version: Literal[1] = Field(default=1, description="Format version of this file.")
    score: str = Field(description="The score thresholded (agreement, margin, ...).")
    threshold: float = Field(description="Answer when score > threshold.")
    alpha: float = Field(gt=0, lt=1, description="Target quiet-failure rate.")
    delta: float | None = Field(
        description="1 - confidence of the bound (ltt); null for crc (an expectation bound)."
    )
    method: Literal["ltt", "crc"] = Field(description="ltt (Learn then Test) or crc.")
    bound: Literal["hoeffding_bentkus", "binomial"] | None = Field(
        description="The p-value used by ltt; null for crc."
    )
    n_calibration: int = Field(ge=1, description="Labelled calibration items used.")
    n_minimum: int = Field(ge=1, description="Fewest items that could certify any threshold.")
    calibration_abstention_rate: float = Field(description="Share of items abstained on.")
    calibration_quiet_failure_rate: float = Field(
        description="Answered and wrong over all calibration items, with the gate."
    )
    calibration_ungated_failure_rate: float = Field(
        description="Wrong over all calibration items when every answer is given."
    )
    certificate: float = Field(
        description="ltt: the p-value at threshold (<= delta); crc: (k + 1) / (n + 1) "
        "(<= alpha), k the calibration quiet failures."
    )

    @property
    def guarantee(self) -> str:
        """The guarantee in words."""
        if self.method == "ltt":
            confidence = 1.0 - (self.delta if self.delta is not None else float("nan"))
            return (
                f"with probability >= {confidence:.0%} over the calibration draw, the "
                f"quiet-failure rate on new exchangeable items is <= {self.alpha:.1%}"
            )
        return f"the expected quiet-failure rate on a new exchangeable item is <= {self.alpha:.1%}"

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def load_gate(path: str | Path) -> Gate:
    """Read a ``gate.json`` written by `Gate.save` (``monoculture guard calibrate``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReadError(f"--gate {path}: cannot be read: {error.strerror}.") from None
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(f"--gate {path}: not valid JSON: {error}.") from None
    if not isinstance(raw, dict) or raw.get("schema") != GATE_SCHEMA:
        raise SchemaError(
            f"--gate {path}: not a gate file (its 'schema' is not {GATE_SCHEMA!r}); write one "
            "with `monoculture guard calibrate FILE -o gate.json`."
        )
    if raw.get("version") != GATE_VERSION:
        raise SchemaError(
            f"--gate {path}: gate file version {raw.get('version')!r}; this release reads "
            f"version {GATE_VERSION}. Calibrate it again with this release."
        )
    try:
        return Gate.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise SchemaError(
            f"--gate {path}: key {key!r}: {first['msg']}; calibrate the gate again."
        ) from None


def calibrate_gate(
    scores: ItemScores,
    *,
    alpha: float,
    delta: float = 0.1,
    method: GateMethod = "ltt",
    bound: Bound = "hoeffding_bentkus",
) -> Gate:
    """Calibrate a gate on labelled items (those whose gold is known).

    Args:
        scores: calibration items' scores (`score_items`, `score_decisions`, `score_array`).
        alpha: target quiet-failure rate, in (0, 1).
        delta: for ``ltt``, the chance in (0, 1) that the calibration draw misleads (the
            bound holds with probability >= 1 - delta); ignored by ``crc``.
        method: ``ltt`` (Learn then Test, high-probability bound) or ``crc`` (conformal
            risk control, expectation bound).
        bound: the p-value of ``ltt``: ``hoeffding_bentkus`` (as in the papers) or
            ``binomial`` (exact for this 0/1 loss, less abstention).

    Raises:
        InputError: a level outside (0, 1), an unknown method, or fewer labelled items than
            `minimum_calibration_items` (the message says how many are needed).

    Example:
        >>> from monoculture.guard._scores import score_array
        >>> s = score_array(np.tile([0.9, 0.8, 0.7, 0.6], 50),
        ...                 correct=np.tile([1, 1, 1, 0], 50), name="toy")
        >>> gate = calibrate_gate(s, alpha=0.1, delta=0.1)
        >>> gate.threshold, gate.calibration_abstention_rate
        (0.6, 0.25)
    """
    alpha = _check_level(alpha, "alpha", "calibrate_gate")
    delta = _check_level(delta, "delta", "calibrate_gate")
    _check_method(method, bound, "calibrate_gate")
    if not isinstance(scores, ItemScores):
        raise InputError(
            f"calibrate_gate: expected ItemScores (from score_items, score_decisions or "
            f"score_array); got {type(scores).__name__}."
        )
    labelled = scores.labelled
    n = int(labelled.sum())
    needed = minimum_calibration_items(alpha=alpha, delta=delta, method=method, bound=bound)
    if n < needed:
        confidence = "" if method == "crc" else f" with delta={delta:g}"
        raise InputError(
            f"calibrate_gate: {n} labelled calibration item(s) (gold known) cannot certify "
            f"a quiet-failure rate of alpha={alpha:g}{confidence} ({method}): at least "
            f"{needed} are needed. Add labelled items, or raise alpha"
            + (" or delta." if method == "ltt" else ".")
        )
    values = scores.values[labelled]
    wrong = 1.0 - scores.correct[labelled]
    thresholds, failures = gate_thresholds(
        values[None, :], wrong[None, :], alpha=alpha, delta=delta, method=method, bound=bound
    )
    threshold, k = float(thresholds[0]), int(failures[0])
    answered = _answers(values, threshold)
    if method == "ltt":
        certificate = float(learn_then_test_p_values(np.array([k]), n, alpha=alpha, bound=bound)[0])
    else:
        certificate = (k + 1.0) / (n + 1.0)
    return Gate(
        score=scores.name,
        threshold=threshold,
        alpha=alpha,
        delta=delta if method == "ltt" else None,
        method=method,
        bound=bound if method == "ltt" else None,
        n_calibration=n,
        n_minimum=needed,
        calibration_abstention_rate=float(1.0 - answered.mean()),
        calibration_quiet_failure_rate=k / n,
        calibration_ungated_failure_rate=float(wrong.mean()),
        certificate=certificate,
    )


def _answers(values: np.ndarray, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(values) & (values > threshold))


@dataclass(frozen=True)
class GateResult:
    """A gate applied to items.

    Attributes:
        answered: ``(n_items,)`` bool, True where the gate answers.
        answer: ``(n_items,)`` the swarm's answer code where answered, -1 where abstained.
        n_items: items gated.
        n_labelled: items whose gold is known (the rates below are over these).
        abstention_rate: share of all items abstained on (escalated).
        quiet_failure_rate: answered and wrong over labelled items; NaN without gold.
        ungated_failure_rate: wrong over labelled items when every answer is given.
        accuracy_when_answered: right over answered labelled items; NaN when none.
    """

    answered: np.ndarray
    answer: np.ndarray
    n_items: int
    n_labelled: int
    abstention_rate: float
    quiet_failure_rate: float
    ungated_failure_rate: float
    accuracy_when_answered: float

    def summary(self) -> dict[str, float | int]:
        """The figures as a JSON-ready dict (NaN becomes None)."""
        out: dict[str, float | int] = {}
        for key in (
            "n_items",
            "n_labelled",
            "abstention_rate",
            "quiet_failure_rate",
            "ungated_failure_rate",
            "accuracy_when_answered",
        ):
            out[key] = getattr(self, key)
        return out


def apply_gate(gate: Gate, scores: ItemScores) -> GateResult:
    """Answer or abstain on each item; count quiet failures where gold is known.

    Raises:
        InputError: the scores are not those the gate was calibrated on.

    Example:
        >>> from monoculture.guard._scores import score_array
        >>> s = score_array(np.tile([0.9, 0.8, 0.7, 0.6], 50),
        ...                 correct=np.tile([1, 1, 1, 0], 50), name="toy")
        >>> result = apply_gate(calibrate_gate(s, alpha=0.1), s)
        >>> result.abstention_rate, result.quiet_failure_rate
        (0.25, 0.0)
    """
    if scores.name != gate.score:
        raise InputError(
            f"apply_gate: the gate was calibrated on the score {gate.score!r} but these "
            f"scores are {scores.name!r}; a threshold means nothing on another score. Pass "
            f"--score {gate.score} (score_items(..., score={gate.score!r})), or calibrate a "
            f"gate on {scores.name!r}."
        )
    answered = _answers(scores.values, gate.threshold)
    labelled = scores.labelled
    n_labelled = int(labelled.sum())
    wrong = 1.0 - scores.correct[labelled]
    if n_labelled:
        quiet = float((answered[labelled] * wrong).sum() / n_labelled)
        ungated = float(wrong.mean())
    else:
        warn_undefined_because("quiet_failure_rate", "no item has a known gold answer")
        quiet = ungated = float("nan")
    answered_labelled = answered & labelled
    if answered_labelled.any():
        accuracy = float(scores.correct[answered_labelled].mean())
    else:
        if n_labelled:
            warn_undefined_because("accuracy_when_answered", "the gate answers no labelled item")
        accuracy = float("nan")
    return GateResult(
        answered=answered,
        answer=np.where(answered, scores.answer, -1),
        n_items=scores.n_items,
        n_labelled=n_labelled,
        abstention_rate=float(1.0 - answered.mean()) if scores.n_items else float("nan"),
        quiet_failure_rate=quiet,
        ungated_failure_rate=ungated,
        accuracy_when_answered=accuracy,
    )
