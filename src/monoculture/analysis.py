"""`analyze(responses) -> Analysis`: every measurement of correlated failure in one object.

The library computes; `monoculture.report` renders. An `Analysis` serialises to the
versioned JSON document of `monoculture.analysis_schema`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from monoculture import metrics
from monoculture._threads import adaptive_blas
from monoculture.analysis_schema import AnalysisDocument, Interval, Summary
from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.metrics._arrays import label_counts
from monoculture.metrics._bootstrap import Estimate, run_bootstrap
from monoculture.metrics._independent_plurality import monte_carlo_se
from monoculture.metrics._loudness import QUIET_AGREEMENT, aurc_of_curve
from monoculture.metrics._validate import check_count, check_fraction
from monoculture.responses import InputSummary, Responses

if TYPE_CHECKING:
    from monoculture.governance import Policy

__all__ = ["DEFAULT_MEMORY_LIMIT_GB", "Analysis", "analysis_memory_gb", "analyze"]

DEFAULT_MEMORY_LIMIT_GB = 8.0
"""`analyze` refuses, before any work, data whose estimated peak memory exceeds this."""

# Measured peaks (2 cores, numpy float64): the agent x agent matrices dominate, about
# 230 bytes per agent pair-cell for the analysis and 1.9 kB more per cell for its saved
# document (every matrix as JSON numbers); 0.4 GB is the interpreter and libraries.
_BASE_BYTES = 0.4e9
_PAIR_CELL_BYTES = 230.0
_DOCUMENT_CELL_BYTES = 1900.0
_ITEM_CELL_BYTES = 60.0


def analysis_memory_gb(n_items: int, n_agents: int, *, document: bool = False) -> float:
    """Estimated peak memory of `analyze` (and of writing its document) in GB.

    Example:
        >>> round(analysis_memory_gb(12_032, 31), 2)
        0.42
    """
    cells = float(n_agents) ** 2
    total = _BASE_BYTES + _PAIR_CELL_BYTES * cells + _ITEM_CELL_BYTES * n_items * n_agents
    if document:
        total += _DOCUMENT_CELL_BYTES * cells
    return total / 1e9


def most_agents_within(limit_gb: float, n_items: int, *, document: bool = False) -> int:
    """The largest number of agents whose estimated analysis fits in ``limit_gb``."""
    per_cell = _PAIR_CELL_BYTES + (_DOCUMENT_CELL_BYTES if document else 0.0)
    budget = max(limit_gb * 1e9 - _BASE_BYTES, 0.0)
    # Solve per_cell n^2 + item_bytes n = budget for n.
    b = _ITEM_CELL_BYTES * n_items
    return max(int((-b + (b * b + 4 * per_cell * budget) ** 0.5) / (2 * per_cell)), 0)


def check_memory(
    n_items: int, n_agents: int, limit_gb: float, *, document: bool = False, who: str = "analyze"
) -> None:
    """Refuse up front, naming the estimate and how to reduce it."""
    need = analysis_memory_gb(n_items, n_agents, document=document)
    if need <= limit_gb:
        return
    fits = most_agents_within(limit_gb, n_items, document=document)
    what = " with its JSON/HTML document" if document else ""
    raise InputError(
        f"{who}: {n_agents:,} agents need about {need:.1f} GB{what} (the agent x agent "
        f"matrices grow with the square of the agents); the limit is {limit_gb:g} GB. "
        f"Analyse a sample of at most {fits:,} agents (--sample-agents {fits}), or raise the "
        "limit (--memory-limit GB) on a machine that has the memory."
    )


_TOP_PAIRS = 10
_SYSTEMIC_ITEMS = 25


@dataclass(frozen=True)
class Analysis:
    """The result of `analyze`. ``summary`` holds the headline figures, typed (an
    `Interval` for each figure with one); the other fields hold tables for reports."""

    summary: Summary
    verdict: str
    agents: pd.DataFrame
    pairwise: dict[str, pd.DataFrame]
    pair_intervals: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
    top_pairs: pd.DataFrame
    clusters: metrics.AgentClusters
    k_of_n: pd.DataFrame
    vote_curve: pd.DataFrame
    risk_coverage: pd.DataFrame
    attributes: pd.DataFrame
    systemic_items: pd.DataFrame
    input_summary: InputSummary
    settings: dict[str, Any]
    estimates: dict[str, Estimate] = field(default_factory=dict)
    synthetic: bool = False
    undefined: dict[str, str] = field(default_factory=dict)
    governance: dict[str, Any] | None = None
    """Power by group, concentration, pivotal shares and policy results
    (`monoculture.governance.governance_summary`); ``None`` without categorical agent
    attributes or a policy."""

    def to_document(self) -> AnalysisDocument:
        from monoculture import __version__  # the package imports this module

        order = self.clusters.order
        matrices = {
            name: _matrix_json(frame.loc[order, order]) for name, frame in self.pairwise.items()
        }
        for name, (low, high) in self.pair_intervals.items():
            matrices[f"{name}_ci_low"] = _matrix_json(low.loc[order, order])
            matrices[f"{name}_ci_high"] = _matrix_json(high.loc[order, order])
        members: dict[str, list[str]] = {}
        for agent, label in self.clusters.labels.items():
            members.setdefault(str(label), []).append(str(agent))
        return AnalysisDocument.model_validate(
            dict(
                schema="monoculture.analysis",
                generated_by=f"monoculture {__version__}",
                verdict=self.verdict,
                input={**self.input_summary.to_dict(), "synthetic": self.synthetic},
                settings=self.settings,
                summary=self.summary,
                undefined=self.undefined,
                agents=_records(self.agents.reset_index()),
                pairwise={"agents": order, "matrices": matrices},
                top_pairs=_records(self.top_pairs),
                clusters={
                    "n_clusters": self.clusters.n_clusters,
                    "silhouette": _clean(self.clusters.silhouette),
                    "order": order,
                    "linkage": self.clusters.linkage.tolist(),
                    "members": members,
                },
                k_of_n=_records(self.k_of_n),
                vote_curve=_records(self.vote_curve),
                risk_coverage=_records(self.risk_coverage),
                attributes=_records(self.attributes),
                systemic_items=_records(self.systemic_items),
                governance=self.governance,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as Python objects."""
        return self.to_document().model_dump(by_alias=True, mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        """The versioned JSON document (schema ``monoculture.analysis``)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def _clean(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _matrix_json(frame: pd.DataFrame) -> list[list[float | None]]:
    values = frame.to_numpy(dtype=np.float64)
    return [[_clean(v) for v in row] for row in values]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _upper_mean(frame: pd.DataFrame) -> float:
    values = frame.to_numpy(dtype=np.float64)
    upper = values[np.triu_indices(len(values), k=1)]
    upper = upper[np.isfinite(upper)]
    return float(upper.mean()) if len(upper) else float("nan")


def _same_wrong_independent(responses: Responses) -> float:
    """Mean over pairs of the same-wrong rate that errors spread uniformly over the
    ``n_options - 1`` wrong options would give, on the pair's both-wrong items."""
    counts = responses.option_counts()
    if counts is None or responses.answers is None:
        return float("nan")
    wrong = ((responses.correct == 0) & responses.observed & (responses.answers >= 0)).astype(
        np.float64
    )
    chance = 1.0 / np.maximum(counts - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = ((wrong * chance[:, None]).T @ wrong) / (wrong.T @ wrong)
    upper = rate[np.triu_indices(responses.n_agents, k=1)]
    upper = upper[np.isfinite(upper)]
    return float(upper.mean()) if len(upper) else float("nan")


def _top_pairs(pairwise: dict[str, pd.DataFrame], intervals: dict[str, Any]) -> pd.DataFrame:
    kappa = pairwise["error_consistency"]
    names = list(kappa.index)
    i, j = np.triu_indices(len(names), k=1)
    values = kappa.to_numpy()[i, j]
    order = np.argsort(-np.where(np.isfinite(values), values, -np.inf), kind="stable")[:_TOP_PAIRS]
    rows = []
    for k in order:
        a, b = i[k], j[k]
        row: dict[str, Any] = {"agent": names[a], "other": names[b]}
        for name in (
            "error_consistency",
            "normalized_error_consistency",
            "copy_probability",
            "error_consistency_pvalue",
            "same_wrong_rate",
            "capa",
            "difficulty_adjusted_error_consistency",
            "shared_items",
        ):
            if name in pairwise:
                row[name] = float(pairwise[name].to_numpy()[a, b])
        if "error_consistency" in intervals:
            low, high = intervals["error_consistency"]
            row["error_consistency_ci_low"] = float(low.iat[a, b])
            row["error_consistency_ci_high"] = float(high.iat[a, b])
        rows.append(row)
    return pd.DataFrame(rows)


def _systemic_items(responses: Responses) -> pd.DataFrame:
    """Items failed by the largest share of agents; among equals, those where the wrong
    answers agree most (a shared misconception) come first."""
    n_scored = responses.observed.sum(axis=1)
    wrong = (responses.correct == 0) & responses.observed
    n_wrong = wrong.sum(axis=1)
    share = np.where(n_scored > 0, n_wrong / np.maximum(n_scored, 1), 0.0)
    top_code = np.full(responses.n_items, -1)
    top_share = np.zeros(responses.n_items)
    if responses.answers is not None and len(responses.labels):
        codes = np.where(wrong & (responses.answers >= 0), responses.answers, -1)
        counts = label_counts(codes, len(responses.labels))
        top_code = np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), -1)
        top_share = counts.max(axis=1) / np.maximum(n_wrong, 1)
    order = np.lexsort((-top_share, -n_scored, -share))[:_SYSTEMIC_ITEMS]
    rows = []
    for x in order:
        row: dict[str, Any] = {
            "item_id": _clean(responses.item_ids[x]),
            "n_scored": int(n_scored[x]),
            "n_wrong": int(n_wrong[x]),
            "share_wrong": float(share[x]),
        }
        if "category" in responses.item_attrs.columns:
            row["category"] = _clean(responses.item_attrs["category"].iat[x])
        if top_code[x] >= 0:
            row["top_wrong_answer"] = responses.labels[int(top_code[x])]
            row["top_wrong_share"] = float(top_share[x])
        if responses.gold is not None and responses.gold[x] >= 0:
            row["gold"] = responses.labels[int(responses.gold[x])]
        rows.append(row)
    return pd.DataFrame(rows)


# Each headline figure and the public metric that is undefined on the same data, so that a
# null figure can carry the metric's own reason.
_REASON_SOURCES: dict[str, Callable[[Responses], Any]] = {
    "best_agent_accuracy": metrics.accuracy,
    "mean_agent_accuracy": metrics.accuracy,
    "mean_error_consistency": metrics.error_consistency,
    "mean_same_wrong": metrics.same_wrong_rate,
    "systemic_failure_rate": metrics.systemic_failure_rate,
    "systemic_failure_rate_independent": metrics.independent_systemic_failure_rate,
    "plurality_accuracy": metrics.plurality_accuracy,
    "plurality_accuracy_independent": metrics.independent_vote_accuracy,
    "quiet_failure_share": metrics.quiet_failure_share,
    "icc": metrics.icc,
    "effective_agents": metrics.effective_agents,
    "aurc": metrics.aurc,
    "fleiss_kappa": metrics.fleiss_kappa,
    "krippendorff_alpha": metrics.krippendorff_alpha,
    "mean_error_phi": metrics.error_phi,
    "mean_capa": metrics.capa,
    "mean_difficulty_adjusted_error_consistency": metrics.difficulty_adjusted_error_consistency,
    "mean_residual_error_correlation": metrics.residual_error_correlation,
}


def _undefined_reasons(responses: Responses, summary: Summary) -> dict[str, str]:
    """Figure -> why it is null: the reason its metric gives on these data."""
    reasons = {}
    for name, metric in _REASON_SOURCES.items():
        if summary.value(name) is not None:
            continue
        if responses.answers is None and name in (
            "mean_same_wrong",
            "fleiss_kappa",
            "krippendorff_alpha",
        ):
            reasons[name] = "needs the agents' answers, not only correctness"
            continue
        if name == "mean_capa" and (responses.gold is None or responses.option_counts() is None):
            reasons[name] = "needs gold answers and the number of options per item"
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UndefinedMetricWarning)
            metric(responses)
        messages = [str(w.message) for w in caught if w.category is UndefinedMetricWarning]
        reasons[name] = (
            messages[0].split("(NaN): ", 1)[-1].rstrip(".")
            if messages
            else "no value for these data"
        )
    return reasons


def _verdict(summary: Summary, synthetic: bool, undefined: dict[str, str]) -> str:
    def shown(name: str, fmt: str) -> str:
        number = summary.value(name)
        return "undefined" if number is None else fmt.format(number)

    prefix = "SYNTHETIC DATA: " if synthetic else ""
    n = summary.n_agents
    effective, icc = summary.value("effective_agents"), summary.value("icc")
    if effective is None:
        reason = undefined.get("effective_agents", "no value for these data")
        head = f"{n} agents; the number of independent agents is undefined: {reason}"
    elif icc is not None and icc <= 0:
        head = (
            f"{n} agents: no evidence of correlated errors (ICC {icc:.2f}), so they count as "
            f"{n} independent agents"
        )
    else:
        head = f"{n} agents behave like {effective:.1f} independent agents"
    systemic = shown("systemic_failure_rate", "{:.1%}")
    independent = shown("systemic_failure_rate_independent", "{:.2g}")
    return (
        f"{prefix}{head} (mean error consistency {shown('mean_error_consistency', '{:.2f}')}; "
        f"all wrong together on {systemic} of items, {independent} if independent)."
    )


def analyze(
    responses: Responses,
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    complete_only: bool = False,
    level: float = 0.95,
    quiet_threshold: float = QUIET_AGREEMENT,
    synthetic: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB,
    governance: bool = True,
    governance_attributes: Sequence[str] | None = None,
    policy: Policy | None = None,
) -> Analysis:
    """Measure correlated failure in ``responses``.

    Args:
        bootstrap: item-bootstrap resamples for the intervals (0 = none).
        seed: seed of the resampling and of random sub-swarms.
        complete_only: use only items every agent was scored on.
        level: confidence level of the intervals.
        quiet_threshold: agreement at or above which a wrong vote counts as quiet.
        synthetic: mark the result as coming from generated data.
        progress: ``progress(stage, done, total)`` callback for long steps.
        memory_limit_gb: refuse, before any work, data whose estimated peak memory
            (`analysis_memory_gb`) exceeds this.
        governance: add the governance part (`Analysis.governance`: power by group,
            concentration, pivotal shares with ``bootstrap`` resamples) when the agents
            have categorical attributes (`monoculture.governance.governance_attributes`:
            family, developer, ... first, at most 4) or a ``policy`` is given; ``False``
            leaves it out.
        governance_attributes: the agent attributes to summarise instead of the default
            choice.
        policy: a `monoculture.governance.Policy` to check against the data, as
            ``monoculture check`` checks a results file; a failing rule is reported, not
            raised.

    Example:
        >>> from monoculture.synthetic import latent_swarm
        >>> result = analyze(latent_swarm(n_agents=5, n_items=200, seed=1), bootstrap=50)
        >>> result.summary.n_agents, result.summary.effective_agents.n
        (5, 200)
    """
    if not isinstance(responses, Responses):
        raise InputError(f"analyze: expected a Responses; got {type(responses).__name__}.")
    check_count(bootstrap, "bootstrap", "analyze", minimum=0)
    check_count(seed, "seed", "analyze", minimum=0)
    check_fraction(level, "level", "analyze")
    check_fraction(quiet_threshold, "quiet_threshold", "analyze")
    check_memory(responses.n_items, responses.n_agents, memory_limit_gb)
    if not isinstance(governance, bool):
        raise InputError(f"analyze: `governance` must be True or False; got {governance!r}.")
    if not governance and (policy is not None or governance_attributes is not None):
        raise InputError(
            "analyze: `policy` and `governance_attributes` need the governance part; leave "
            "`governance` True or leave them out."
        )
    if governance and (policy is not None or governance_attributes is not None):
        from monoculture.governance._summary import check_governance_options

        check_governance_options(
            responses, attributes=governance_attributes, policy=policy, function="analyze"
        )
    if complete_only:
        responses = responses.complete_only()
        if responses.n_items == 0:
            raise InputError("analyze: complete_only=True leaves no item scored by every agent.")
    # Undefined figures are expected for some data and are written as null in the document,
    # so their warnings stop here.
    with warnings.catch_warnings(), adaptive_blas():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return _measure(
            responses,
            bootstrap=bootstrap,
            seed=seed,
            complete_only=complete_only,
            level=level,
            quiet_threshold=quiet_threshold,
            synthetic=synthetic,
            progress=progress,
            governance=governance,
            governance_attributes=governance_attributes,
            policy=policy,
        )


def _measure(
    responses: Responses,
    *,
    bootstrap: int,
    seed: int,
    complete_only: bool,
    level: float,
    quiet_threshold: float,
    synthetic: bool,
    progress: Callable[[str, int, int], None] | None,
    governance: bool,
    governance_attributes: Sequence[str] | None,
    policy: Policy | None,
) -> Analysis:
    def report(stage: str) -> Callable[[int, int], None]:
        return lambda done, total: progress(stage, done, total) if progress else None

    boot = run_bootstrap(
        responses,
        n_resamples=bootstrap,
        level=level,
        rng=seed,
        quiet_threshold=quiet_threshold,
        progress=report("bootstrap"),
    )
    pairwise = metrics.pairwise_metrics(responses)
    fit = metrics.rasch_fit(responses)
    pairwise["difficulty_adjusted_error_consistency"] = (
        metrics.difficulty_adjusted_error_consistency(responses, fit=fit)
    )
    pairwise["residual_error_correlation"] = metrics.residual_error_correlation(responses, fit=fit)
    if (
        responses.gold is not None
        and (responses.answers is not None or responses.probs is not None)
        and responses.option_counts() is not None
    ):
        pairwise["capa"] = metrics.capa(responses)
    names = pd.Index(responses.agents, name="agent")
    intervals = {
        name: (
            pd.DataFrame(low, index=names, columns=names),
            pd.DataFrame(high, index=names, columns=names),
        )
        for name, (low, high) in boot.pair_intervals.items()
    }
    clusters = metrics.cluster_agents(pairwise["error_consistency"])
    agents = pd.DataFrame(
        {
            "accuracy": metrics.accuracy(responses),
            "coverage": metrics.coverage(responses),
            "cluster": clusters.labels.reindex([str(a) for a in responses.agents]).to_numpy(),
        },
        index=names,
    )
    for column in responses.agent_attrs.columns:
        agents[str(column)] = responses.agent_attrs[column].to_numpy()
    attributes = (
        metrics.attribute_association(
            pairwise["error_consistency"], responses.agent_attrs, rng=seed
        )
        if len(responses.agent_attrs.columns)
        else pd.DataFrame()
    )
    # The k-of-n curve needs items every agent was scored on; without any the report
    # leaves the figure out rather than drawing NaN.
    has_complete = bool(responses.complete_items.any())
    k_of_n = metrics.k_of_n_failure_curve(responses) if has_complete else pd.DataFrame()
    risk = metrics.risk_coverage_curve(responses, threshold=quiet_threshold)

    def interval(name: str) -> Interval | None:
        estimate = boot.estimates.get(name)
        return None if estimate is None else Interval(**estimate.to_dict())

    has_answers = responses.answers is not None
    summary = Summary(
        n_items=responses.n_items,
        n_agents=responses.n_agents,
        n_rows=responses.input_summary.rows_used,
        n_complete_items=int(responses.complete_items.sum()),
        best_agent_accuracy=interval("best_agent_accuracy"),
        mean_agent_accuracy=interval("mean_agent_accuracy"),
        mean_error_consistency=interval("mean_error_consistency"),
        mean_same_wrong=interval("mean_same_wrong"),
        systemic_failure_rate=interval("systemic_failure_rate"),
        systemic_failure_rate_independent=interval("systemic_failure_rate_independent"),
        plurality_accuracy=interval("plurality_accuracy"),
        quiet_failure_share=interval("quiet_failure_share"),
        plurality_accuracy_independent=interval("plurality_accuracy_independent"),
        plurality_accuracy_independent_mc_se=monte_carlo_se(responses.n_agents),
        icc=interval("icc"),
        effective_agents=interval("effective_agents"),
        mean_same_wrong_independent=_clean(_same_wrong_independent(responses)),
        quiet_threshold=quiet_threshold,
        aurc=_clean(aurc_of_curve(risk)),
        fleiss_kappa=_clean(metrics.fleiss_kappa(responses)) if has_answers else None,
        krippendorff_alpha=_clean(metrics.krippendorff_alpha(responses)) if has_answers else None,
        mean_error_phi=_clean(_upper_mean(pairwise["error_phi"])),
        mean_capa=_clean(_upper_mean(pairwise["capa"])) if "capa" in pairwise else None,
        mean_difficulty_adjusted_error_consistency=_clean(
            _upper_mean(pairwise["difficulty_adjusted_error_consistency"])
        ),
        mean_residual_error_correlation=_clean(_upper_mean(pairwise["residual_error_correlation"])),
        n_clusters=clusters.n_clusters,
    )
    settings = {
        "bootstrap": bootstrap,
        "seed": seed,
        "level": level,
        "complete_only": complete_only,
        "quiet_threshold": quiet_threshold,
        "interval_method": next(iter(boot.estimates.values())).method if boot.estimates else "",
    }
    undefined = _undefined_reasons(responses, summary)
    governed = None
    # Without attributes or a policy there is nothing to govern: the package is not loaded.
    if governance and (len(responses.agent_attrs.columns) or policy is not None):
        from monoculture.governance import governance_summary

        governed = governance_summary(
            responses,
            policy=policy,
            attributes=governance_attributes,
            bootstrap=bootstrap,
            level=level,
            seed=seed,
            target_name=responses.input_summary.source,
            progress=progress,
        )
    return Analysis(
        summary=summary,
        verdict=_verdict(summary, synthetic, undefined),
        undefined=undefined,
        agents=agents,
        pairwise=pairwise,
        pair_intervals=intervals,
        top_pairs=_top_pairs(pairwise, intervals),
        clusters=clusters,
        k_of_n=k_of_n,
        vote_curve=metrics.vote_accuracy_curve(responses, rng=seed),
        risk_coverage=risk,
        attributes=attributes,
        systemic_items=_systemic_items(responses),
        input_summary=responses.input_summary,
        settings=settings,
        estimates=boot.estimates,
        synthetic=synthetic,
        governance=governed,
    )
