"""Policy as code: a TOML file of rules checked against a results file, an analysis JSON or
an experiment configuration.

::

    [settings]                       # all optional; the defaults shown
    group_by = ["family", "developer", "constitution", "provider"]
    power_index = "banzhaf"          # or "shapley_shubik"
    coalition = "bloc"               # a group votes as one player; or "members"
    pivotal = "flip"                 # or "removal"
    bootstrap = 1000                 # item-bootstrap resamples for intervals
    seed = 0
    level = 0.95
    quiet_threshold = 0.8
    require = "value"                # default for every rule; or "interval"
    unevaluable = "fail"             # a rule that cannot be measured fails; or "skip"

    [rules]
    max_group_power = 0.4
    min_effective_agents = { limit = 4, require = "interval" }

A rule passes on its value (``value <= limit`` for ``max_*``, ``>= limit`` for ``min_*``),
or with ``require = "interval"`` only when the whole interval does. A rule that a target
cannot measure (``n/a``) or whose figure is undefined for the data is never a pass: it
fails the check unless ``unevaluable = "skip"``. The rules and the targets each applies
to are in `RULES`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from monoculture._toml import line_of, read_toml
from monoculture.analysis_schema import AnalysisDocument
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.experiment.config import ExperimentConfig
from monoculture.governance._pivotal import _bootstrap_shares, pivotal_power
from monoculture.governance._power import MISSING_GROUP, group_power
from monoculture.responses import Responses

__all__ = [
    "RULES",
    "Policy",
    "PolicyReport",
    "PolicySettings",
    "Rule",
    "RuleResult",
    "RuleSpec",
    "detect_target_kind",
    "evaluate_policy",
    "load_policy",
    "parse_policy",
]

TargetKind = Literal["results", "analysis", "experiment"]
Require = Literal["value", "interval"]
Status = Literal["pass", "fail", "n/a", "undefined"]

_ALL: frozenset[TargetKind] = frozenset({"results", "analysis", "experiment"})
_DATA: frozenset[TargetKind] = frozenset({"results", "analysis"})


@dataclass(frozen=True)
class RuleSpec:
    """What a rule measures: ``direction`` ``"max"`` (value must not exceed the limit) or
    ``"min"``; ``kind`` ``"share"`` (limit in [0, 1]), ``"count"`` (an integer >= 0) or
    ``"number"``; ``targets``: the target kinds that can measure it."""

    name: str
    direction: Literal["max", "min"]
    kind: Literal["share", "count", "number"]
    targets: frozenset[TargetKind]
    description: str


RULES: dict[str, RuleSpec] = {
    spec.name: spec
    for spec in (
        RuleSpec(
            "max_group_power",
            "max",
            "share",
            _ALL,
            "largest power index of a group (settings.group_by), groups voting as blocs",
        ),
        RuleSpec(
            "max_power_concentration",
            "max",
            "share",
            _ALL,
            "Herfindahl–Hirschman index of the groups' power shares",
        ),
        RuleSpec(
            "max_pivotal_share",
            "max",
            "share",
            frozenset({"results"}),
            "largest share of decided items on which one group is pivotal (settings.pivotal)",
        ),
        RuleSpec(
            "min_effective_agents",
            "min",
            "number",
            _DATA,
            "n / (1 + (n - 1) ICC) of the errors",
        ),
        RuleSpec("min_agents", "min", "count", _ALL, "number of agents"),
        RuleSpec(
            "min_families",
            "min",
            "count",
            _DATA,
            "distinct model families (agent attribute 'family')",
        ),
        RuleSpec("min_models", "min", "count", _ALL, "distinct models (agent attribute 'model')"),
        RuleSpec(
            "min_constitutions",
            "min",
            "count",
            _ALL,
            "distinct constitutions (agent attribute 'constitution')",
        ),
        RuleSpec(
            "max_quiet_failure_rate",
            "max",
            "share",
            _DATA,
            "share of scored items on which the plurality vote is wrong with agreement "
            ">= settings.quiet_threshold",
        ),
        RuleSpec(
            "max_quiet_failure_share",
            "max",
            "share",
            _DATA,
            "share of wrong plurality votes that are quiet",
        ),
        RuleSpec(
            "max_mean_error_consistency",
            "max",
            "number",
            _DATA,
            "mean over pairs of Cohen's kappa on right/wrong",
        ),
        RuleSpec(
            "max_systemic_failure_rate",
            "max",
            "share",
            _DATA,
            "share of items on which every scored agent is wrong",
        ),
    )
}

_DEFAULT_GROUP_BY = ("family", "developer", "constitution", "provider")
_TARGET_NAMES: dict[TargetKind, str] = {
    "results": "results file",
    "analysis": "analysis JSON",
    "experiment": "experiment configuration",
}


@dataclass(frozen=True)
class PolicySettings:
    """How the rules are measured (the ``[settings]`` table; see the module docstring)."""

    group_by: tuple[str, ...] = _DEFAULT_GROUP_BY
    power_index: Literal["banzhaf", "shapley_shubik"] = "banzhaf"
    coalition: Literal["bloc", "members"] = "bloc"
    pivotal: Literal["flip", "removal"] = "flip"
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    quiet_threshold: float = 0.8
    require: Require = "value"
    unevaluable: Literal["fail", "skip"] = "fail"


@dataclass(frozen=True)
class Rule:
    """One rule: its name (a key of `RULES`), limit, what must pass, and its line."""

    name: str
    limit: float
    require: Require
    line: int | None = None

    @property
    def spec(self) -> RuleSpec:
        return RULES[self.name]

    @property
    def comparison(self) -> str:
        return "<=" if self.spec.direction == "max" else ">="


@dataclass(frozen=True)
class Policy:
    """A parsed policy: rules in file order, settings, and where it came from."""

    rules: tuple[Rule, ...]
    settings: PolicySettings = field(default_factory=PolicySettings)
    source: str = "<policy>"


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule on one target.

    Attributes:
        rule: the rule's name.
        limit: its limit; ``comparison`` is ``"<="`` or ``">="``.
        require: ``"value"`` or ``"interval"``.
        status: ``"pass"``, ``"fail"``, ``"n/a"`` (the target cannot measure it) or
            ``"undefined"`` (the figure is undefined for these data).
        value, ci_low, ci_high: the measured figure and its interval (NaN where none);
            for a figure over groups, the worst group's.
        subject: what the figure is about, e.g. ``"llama (family)"``; empty for the swarm.
        detail: how it was measured, or why it could not be.
    """

    rule: str
    limit: float
    comparison: str
    require: Require
    status: Status
    value: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    subject: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "rule": self.rule,
            "limit": self.limit,
            "comparison": self.comparison,
            "require": self.require,
            "status": self.status,
            "value": clean(self.value),
            "ci_low": clean(self.ci_low),
            "ci_high": clean(self.ci_high),
            "subject": self.subject,
            "detail": self.detail,
        }


POLICY_CHECK_SCHEMA = "monoculture.policy_check"
POLICY_CHECK_VERSION = 1


@dataclass(frozen=True)
class PolicyReport:
    """Every rule's result on one target; ``passed`` when the check passes."""

    policy: str
    target: str
    target_kind: TargetKind
    results: tuple[RuleResult, ...]
    unevaluable: Literal["fail", "skip"] = "fail"
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        """Rules that make the check fail (``n/a`` and ``undefined`` too unless skipped)."""
        bad: tuple[str, ...] = (
            ("fail",) if self.unevaluable == "skip" else ("fail", "n/a", "undefined")
        )
        return tuple(r for r in self.results if r.status in bad)

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def exit_code(self) -> int:
        """0 when every rule passes, 1 otherwise (2, bad input, is raised before this)."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """The saved form: schema ``monoculture.policy_check`` version 1."""
        return {
            "schema": POLICY_CHECK_SCHEMA,
            "version": POLICY_CHECK_VERSION,
            "policy": self.policy,
            "target": self.target,
            "target_kind": self.target_kind,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "unevaluable": self.unevaluable,
            "notes": list(self.notes),
            "rules": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


# ---------------------------------------------------------------------------- parsing
_SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "power_index": ("banzhaf", "shapley_shubik"),
    "coalition": ("bloc", "members"),
    "pivotal": ("flip", "removal"),
    "require": ("value", "interval"),
    "unevaluable": ("fail", "skip"),
}


def _line_number(text: str, key: str) -> int | None:
    found = line_of(text, key)
    return int(found.removeprefix(" (line ").removesuffix(")")) if found else None


def _where(text: str, key: str) -> str:
    line = _line_number(text, key)
    return f" (line {line})" if line else ""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _parse_settings(raw: object, text: str, source: str) -> PolicySettings:
    if raw is None:
        return PolicySettings()
    if not isinstance(raw, dict):
        raise InputError(f"{source}: 'settings'{_where(text, 'settings')} must be a table.")
    values: dict[str, Any] = {}
    known = PolicySettings.__dataclass_fields__
    for key, value in raw.items():
        where = f"{source}: setting {key!r}{_where(text, key)}"
        if key not in known:
            raise InputError(
                f"{where}: unknown setting; known settings: {', '.join(sorted(known))}."
            )
        if key in _SETTING_CHOICES:
            if value not in _SETTING_CHOICES[key]:
                choices = " or ".join(repr(c) for c in _SETTING_CHOICES[key])
                raise InputError(f"{where}: must be {choices}; got {value!r}.")
        elif key == "group_by":
            if isinstance(value, str):
                value = (value,)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                value = tuple(value)
            else:
                raise InputError(
                    f"{where}: must be an agent attribute name or a non-empty list of them, "
                    f'e.g. ["family", "constitution"]; got {value!r}.'
                )
        elif key in ("bootstrap", "seed"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"{where}: must be an integer >= 0; got {value!r}.")
        elif key == "level":
            if not (_is_number(value) and 0 < value < 1):
                raise InputError(f"{where}: must be a number in (0, 1), e.g. 0.95; got {value!r}.")
        elif key == "quiet_threshold" and not (_is_number(value) and 0 < value <= 1):
            raise InputError(f"{where}: must be a number in (0, 1]; got {value!r}.")
        values[key] = value
    return PolicySettings(**values)


def _parse_rule(name: str, value: object, default: Require, text: str, source: str) -> Rule:
    line = _line_number(text, name)
    where = f"{source}: rule {name!r}" + (f" (line {line})" if line else "")
    spec = RULES.get(name)
    if spec is None:
        raise InputError(
            f"{where}: unknown rule; known rules: {', '.join(sorted(RULES))}. Check the "
            "spelling, or remove it."
        )
    require = default
    if isinstance(value, dict):
        extra = sorted(set(value) - {"limit", "require"})
        if extra or "limit" not in value:
            raise InputError(
                f"{where}: a rule table takes 'limit' (required) and 'require'; got keys "
                f'{sorted(value)}. E.g. {name} = {{ limit = 0.4, require = "interval" }}.'
            )
        require = value.get("require", default)
        if require not in ("value", "interval"):
            raise InputError(f"{where}: require must be 'value' or 'interval'; got {require!r}.")
        value = value["limit"]
    if not _is_number(value):
        raise InputError(
            f"{where}: the limit must be a number; got {value!r} ({type(value).__name__})."
        )
    limit = float(value)  # type: ignore[arg-type]
    if spec.kind == "share" and not 0 <= limit <= 1:
        raise InputError(f"{where}: the limit is a share, so it must be in [0, 1]; got {limit:g}.")
    if spec.kind == "count" and (limit < 0 or limit != int(limit)):
        raise InputError(f"{where}: the limit is a count, an integer >= 0; got {value!r}.")
    if name == "min_effective_agents" and limit < 0:
        raise InputError(f"{where}: the limit must be >= 0; got {limit:g}.")
    return Rule(name=name, limit=limit, require=require, line=line)


def parse_policy(raw: Mapping[str, Any], text: str = "", *, source: str = "<policy>") -> Policy:
    """A `Policy` from a parsed TOML mapping (``text`` is the file, for line numbers).

    Raises:
        InputError: an unknown table, setting or rule, or a value of the wrong type or out of
            range; the message names the key and its line.

    Example:
        >>> p = parse_policy({"rules": {"min_families": 3}})
        >>> p.rules[0].name, p.rules[0].limit, p.rules[0].comparison
        ('min_families', 3.0, '>=')
    """
    for key in raw:
        if key not in ("rules", "settings"):
            hint = (
                " Rules go under [rules]."
                if key in RULES
                else " A policy has [settings] and [rules]."
            )
            raise InputError(f"{source}: key {key!r}{_where(text, key)}: not allowed here.{hint}")
    settings = _parse_settings(raw.get("settings"), text, source)
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, dict) or not rules_raw:
        raise InputError(
            f"{source}: no rules; add a [rules] table with at least one rule, e.g. "
            "max_group_power = 0.4."
        )
    rules = tuple(
        _parse_rule(name, value, settings.require, text, source)
        for name, value in rules_raw.items()
    )
    return Policy(rules=rules, settings=settings, source=source)


def load_policy(path: str | Path) -> Policy:
    """Read a policy TOML file.

    Raises:
        ReadError: the file cannot be read, or is not TOML (the message gives the line).
        InputError: a rule or setting breaks a rule of the format (named, with its line).

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "policy.toml"
        >>> _ = path.write_text("[rules]\\nmax_group_power = 0.4\\n")
        >>> load_policy(path).rules[0].limit
        0.4
    """
    raw, text = read_toml(path)
    return parse_policy(raw, text, source=str(path))


def detect_target_kind(path: str | Path) -> TargetKind:
    """``"experiment"`` for ``.toml``, ``"analysis"`` for a JSON document of schema
    ``monoculture.analysis``, ``"results"`` for any other table file.

    Example:
        >>> detect_target_kind("experiment.toml")
        'experiment'
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".toml":
        return "experiment"
    if suffixes and suffixes[-1] == ".json" and path.is_file():
        try:
            with path.open("rb") as handle:
                head = handle.read(4096).decode("utf-8", errors="replace")
        except OSError:
            return "results"
        if '"schema"' in head and "monoculture.analysis" in head:
            return "analysis"
    return "results"


# ---------------------------------------------------------------------------- measuring
@dataclass(frozen=True)
class _Figure:
    """One measured figure (``subject`` names a group when it is one of several)."""

    value: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    subject: str = ""


@dataclass(frozen=True)
class _Measured:
    figures: tuple[_Figure, ...] = ()
    detail: str = ""
    unavailable: str = ""  # why the target cannot measure it (n/a)
    undefined: str = ""  # why the figure is undefined for these data


def _counts_of(values: pd.Series | None, attribute: str) -> _Measured:
    if values is None:
        return _Measured(unavailable=f"the agents have no {attribute!r} attribute")
    present = {str(v) for v in values if not pd.isna(v)}
    missing = int(values.isna().sum())
    note = f"; {missing} agent(s) without one not counted" if missing else ""
    return _Measured((_Figure(float(len(present))),), detail=f"{', '.join(sorted(present))}{note}")


def _group_figures(
    attrs: pd.DataFrame, weights: np.ndarray, settings: PolicySettings
) -> dict[str, _Measured]:
    """Group power and concentration over every ``group_by`` attribute the target has."""
    present = [a for a in settings.group_by if a in attrs.columns]
    absent = [a for a in settings.group_by if a not in attrs.columns]
    if not present:
        reason = f"the agents have none of the attributes {list(settings.group_by)}"
        return {
            "max_group_power": _Measured(unavailable=reason),
            "max_power_concentration": _Measured(unavailable=reason),
        }
    power_figures, hhi_figures, notes = [], [], []
    for attribute in present:
        result = group_power(
            weights,
            attrs[attribute].to_numpy(),
            attribute=attribute,
            coalition=settings.coalition,
            index=settings.power_index,
        )
        for group, share in zip(result.groups, result.share.tolist(), strict=True):
            power_figures.append(_Figure(share, subject=f"{group} ({attribute})"))
        hhi_figures.append(_Figure(result.hhi, subject=attribute))
        top, share = result.top
        notes.append(f"{attribute}: {top} {share:.3f}, {len(result.groups)} groups")
    index = "Banzhaf" if settings.power_index == "banzhaf" else "Shapley–Shubik"
    how = f"{index}, {settings.coalition}, majority of {weights.sum():g} votes; "
    skipped = f"; not in target: {', '.join(absent)}" if absent else ""
    detail = how + "; ".join(notes) + skipped
    return {
        "max_group_power": _Measured(tuple(power_figures), detail=detail),
        "max_power_concentration": _Measured(tuple(hhi_figures), detail=detail),
    }


def _estimate_figure(value: float | None, low: float | None, high: float | None) -> _Figure:
    def num(x: float | None) -> float:
        return float("nan") if x is None else float(x)

    return _Figure(num(value), num(low), num(high))


_SUMMARY_FIGURES = {
    "min_effective_agents": "effective_agents",
    "max_quiet_failure_share": "quiet_failure_share",
    "max_mean_error_consistency": "mean_error_consistency",
    "max_systemic_failure_rate": "systemic_failure_rate",
}


class _ResultsTarget:
    """Measures a `Responses`: figures computed on demand, each once."""

    def __init__(self, responses: Responses, settings: PolicySettings) -> None:
        self.responses = responses
        self.settings = settings
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def measure(self, name: str) -> _Measured:
        r, s = self.responses, self.settings
        attrs = r.agent_attrs
        if name == "min_agents":
            return _Measured((_Figure(float(r.n_agents)),))
        if name in ("min_families", "min_models", "min_constitutions"):
            column = {"min_families": "family", "min_models": "model"}.get(name, "constitution")
            return _counts_of(attrs[column] if column in attrs.columns else None, column)
        if name in ("max_group_power", "max_power_concentration"):
            groups = self._once("groups", lambda: _group_figures(attrs, np.ones(r.n_agents), s))
            return groups[name]  # type: ignore[no-any-return]
        if name == "max_pivotal_share":
            return self._pivotal()
        if name in _SUMMARY_FIGURES:
            figure = _SUMMARY_FIGURES[name]
            estimates, reasons = self._once("summary", self._summary)
            e = estimates[figure]
            m = _Measured(
                (_Figure(e.value, e.ci_low, e.ci_high),), detail=f"{e.method}; n = {e.n:,} items"
            )
            if not math.isfinite(e.value):
                return _Measured(
                    m.figures,
                    detail=m.detail,
                    undefined=reasons.get(figure, "undefined for these data"),
                )
            return m
        if name == "max_quiet_failure_rate":
            return self._quiet_rate()
        raise AssertionError(name)  # every rule of RULES is handled above

    def _summary(self) -> tuple[dict[str, Any], dict[str, str]]:
        from monoculture.metrics import bootstrap_summary

        reasons: dict[str, str] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UndefinedMetricWarning)
            estimates = bootstrap_summary(
                self.responses,
                n_resamples=self.settings.bootstrap,
                level=self.settings.level,
                rng=self.settings.seed,
                quiet_threshold=self.settings.quiet_threshold,
            )
        for warning in caught:
            if issubclass(warning.category, UndefinedMetricWarning):
                message = str(warning.message)
                for figure in _SUMMARY_FIGURES.values():
                    if message.startswith(figure):
                        reasons.setdefault(figure, message)
            else:  # pragma: no cover - other warnings pass through unchanged
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        return estimates, reasons

    def _pivotal(self) -> _Measured:
        r, s = self.responses, self.settings
        if r.answers is None:
            return _Measured(unavailable="the results hold correctness only, not answers")
        present = [a for a in s.group_by if a in r.agent_attrs.columns]
        if not present:
            return _Measured(
                unavailable=f"the agents have none of the attributes {list(s.group_by)}"
            )
        figures, notes = [], []
        for attribute in present:
            result = pivotal_power(
                r, by=attribute, n_resamples=s.bootstrap, level=s.level, rng=s.seed
            )
            for group, e in result.share(s.pivotal).items():
                figures.append(_Figure(e.value, e.ci_low, e.ci_high, f"{group} ({attribute})"))
            if result.single_points_of_failure:
                notes.append(
                    f"single point of failure by {attribute}: "
                    + ", ".join(result.single_points_of_failure)
                )
        absent = [a for a in s.group_by if a not in present]
        detail = (
            f"{s.pivotal}-pivotal share of {result.n_items:,} decided items (plurality, ties "
            f"to the lowest code); {s.bootstrap} item-bootstrap resamples, level {s.level:g}"
            + ("; " + "; ".join(notes) if notes else "")
            + (f"; not in target: {', '.join(absent)}" if absent else "")
        )
        return _Measured(tuple(figures), detail=detail)

    def _quiet_rate(self) -> _Measured:
        from monoculture.metrics import plurality_outcome

        outcome = plurality_outcome(self.responses)
        scorable = np.isfinite(outcome.credit)
        if not scorable.any():
            return _Measured(
                (_Figure(float("nan")),), undefined="no item can be scored (gold unknown)"
            )
        quiet = (outcome.credit[scorable] == 0) & (
            outcome.agreement[scorable] >= self.settings.quiet_threshold
        )
        low, high = _bootstrap_shares(
            quiet[None, :].astype(np.float64),
            self.settings.bootstrap,
            self.settings.level,
            np.random.default_rng(self.settings.seed),
        )
        return _Measured(
            (_Figure(float(quiet.mean()), float(low[0]), float(high[0])),),
            detail=f"wrong plurality votes with agreement >= {self.settings.quiet_threshold:g} "
            f"among {int(scorable.sum()):,} scored items; {self.settings.bootstrap} "
            "item-bootstrap resamples",
        )


class _AnalysisTarget:
    def __init__(self, document: AnalysisDocument, settings: PolicySettings) -> None:
        self.document = document
        self.settings = settings
        self.attrs = pd.DataFrame(document.agents)

    def measure(self, name: str) -> _Measured:
        d, s = self.document, self.settings
        if name == "min_agents":
            return _Measured((_Figure(float(d.summary.n_agents)),))
        if name in ("min_families", "min_models", "min_constitutions"):
            column = {"min_families": "family", "min_models": "model"}.get(name, "constitution")
            return _counts_of(self.attrs[column] if column in self.attrs.columns else None, column)
        if name in ("max_group_power", "max_power_concentration"):
            return _group_figures(self.attrs, np.ones(len(self.attrs)), s)[name]
        if name == "max_pivotal_share":
            return _Measured(
                unavailable="an analysis JSON holds no answers; check the results file instead"
            )
        if name in _SUMMARY_FIGURES:
            figure = _SUMMARY_FIGURES[name]
            entry = getattr(d.summary, figure)
            if entry is None or entry.value is None:
                reason = d.undefined.get(figure, "null in the analysis JSON")
                return _Measured((_Figure(float("nan")),), undefined=reason)
            detail = entry.method or "from the analysis JSON"
            return _Measured(
                (_estimate_figure(entry.value, entry.ci_low, entry.ci_high),), detail=detail
            )
        if name == "max_quiet_failure_rate":
            curve = d.risk_coverage
            if not curve:
                return _Measured((_Figure(float("nan")),), undefined="no risk-coverage curve")
            last = curve[-1]
            answered, quiet = last.get("answered"), last.get("quiet_failures")
            if not answered or quiet is None:
                return _Measured((_Figure(float("nan")),), undefined="no scored item")
            threshold = d.summary.quiet_threshold
            if threshold != s.quiet_threshold:
                return _Measured(
                    unavailable=f"the analysis used quiet_threshold {threshold:g}, the policy "
                    f"{s.quiet_threshold:g}; analyse again with --quiet-threshold "
                    f"{s.quiet_threshold:g}"
                )
            return _Measured(
                (_Figure(float(quiet) / float(answered)),),
                detail=f"from the risk-coverage curve: {int(quiet):,} of {int(answered):,} "
                "scored items (no interval in an analysis JSON)",
            )
        raise AssertionError(name)


class _ExperimentTarget:
    _NEEDS_RESULTS = "needs results: run the experiment, then check its responses or analysis"

    def __init__(self, config: ExperimentConfig, settings: PolicySettings) -> None:
        specs = config.worker_specs()
        self.settings = settings
        self.attrs = pd.DataFrame(
            {
                "model": [a.model for a in specs],
                "constitution": [a.constitution_name for a in specs],
                "temperature": [a.temperature for a in specs],
                "seed": [a.seed for a in specs],
            }
        )

    def measure(self, name: str) -> _Measured:
        if name == "min_agents":
            return _Measured((_Figure(float(len(self.attrs))),), detail="worker agents of the grid")
        if name == "min_models":
            return _counts_of(self.attrs["model"], "model")
        if name == "min_constitutions":
            return _counts_of(self.attrs["constitution"], "constitution")
        if name == "min_families":
            return _Measured(
                unavailable="a configuration names models, not families (use min_models)"
            )
        if name in ("max_group_power", "max_power_concentration"):
            return _group_figures(self.attrs, np.ones(len(self.attrs)), self.settings)[name]
        return _Measured(unavailable=self._NEEDS_RESULTS)


def _judge(rule: Rule, measured: _Measured) -> RuleResult:
    base = dict(rule=rule.name, limit=rule.limit, comparison=rule.comparison, require=rule.require)
    if measured.unavailable:
        return RuleResult(**base, status="n/a", detail=measured.unavailable)  # type: ignore[arg-type]
    figures = measured.figures
    if measured.undefined or not figures or any(not math.isfinite(f.value) for f in figures):
        f = figures[0] if figures else _Figure(float("nan"))
        return RuleResult(
            **base,  # type: ignore[arg-type]
            status="undefined",
            value=f.value,
            subject=f.subject,
            detail=measured.undefined or "undefined for these data",
        )
    high = rule.spec.direction == "max"
    if rule.require == "interval":
        if any(not (math.isfinite(f.ci_low) and math.isfinite(f.ci_high)) for f in figures):
            return RuleResult(
                **base,  # type: ignore[arg-type]
                status="n/a",
                value=figures[0].value,
                detail="the rule requires an interval and this target gives none for it "
                "(bootstrap = 0, or a figure without one); " + measured.detail,
            )
        bound = [f.ci_high if high else f.ci_low for f in figures]
    else:
        bound = [f.value for f in figures]
    worst = int(np.argmax(bound)) if high else int(np.argmin(bound))
    ok = bound[worst] <= rule.limit if high else bound[worst] >= rule.limit
    f = figures[worst]
    return RuleResult(
        **base,  # type: ignore[arg-type]
        status="pass" if ok else "fail",
        value=f.value,
        ci_low=f.ci_low,
        ci_high=f.ci_high,
        subject=f.subject,
        detail=measured.detail,
    )


def evaluate_policy(
    policy: Policy,
    target: Responses | AnalysisDocument | ExperimentConfig,
    *,
    target_name: str = "<target>",
) -> PolicyReport:
    """Check every rule of ``policy`` against a target.

    Args:
        policy: from `load_policy` or `parse_policy`.
        target: a `Responses` (a results file: every rule can be measured), an
            `AnalysisDocument` (``analyze --json``: no pivotal shares; the quiet failure
            rate without an interval) or an `ExperimentConfig` (agent counts, models,
            constitutions and group power of the grid; nothing that needs results).
        target_name: how the report names the target (e.g. its path).

    Returns:
        `PolicyReport`, one `RuleResult` per rule in file order.

    Example:
        >>> from monoculture.synthetic import latent_swarm
        >>> p = parse_policy({"rules": {"min_agents": 5, "min_constitutions": 2}})
        >>> report = evaluate_policy(p, latent_swarm(n_agents=6, n_items=50, seed=0))
        >>> [(r.rule, r.status) for r in report.results], report.exit_code
        ([('min_agents', 'pass'), ('min_constitutions', 'n/a')], 1)
    """
    measurer: _ResultsTarget | _AnalysisTarget | _ExperimentTarget
    if isinstance(target, Responses):
        kind: TargetKind = "results"
        measurer = _ResultsTarget(target, policy.settings)
    elif isinstance(target, AnalysisDocument):
        kind = "analysis"
        measurer = _AnalysisTarget(target, policy.settings)
    elif isinstance(target, ExperimentConfig):
        kind = "experiment"
        measurer = _ExperimentTarget(target, policy.settings)
    else:
        raise InputError(
            "evaluate_policy: the target must be a Responses, an AnalysisDocument or an "
            f"ExperimentConfig; got {type(target).__name__}."
        )
    results = []
    for rule in policy.rules:
        if kind not in rule.spec.targets:
            where = ", ".join(_TARGET_NAMES[k] for k in sorted(rule.spec.targets))
            article = "an" if kind in ("analysis", "experiment") else "a"
            measured = _Measured(
                unavailable=f"cannot be measured on {article} {_TARGET_NAMES[kind]}; it "
                f"applies to: {where}"
            )
        else:
            measured = measurer.measure(rule.name)
        results.append(_judge(rule, measured))
    notes = (f"agents without a value of a group attribute form one group, {MISSING_GROUP!r}",)
    return PolicyReport(
        policy=policy.source,
        target=target_name,
        target_kind=kind,
        results=tuple(results),
        unevaluable=policy.settings.unevaluable,
        notes=notes,
    )
