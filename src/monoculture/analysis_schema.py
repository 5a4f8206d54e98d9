"""The saved form of an `Analysis`: a typed, versioned JSON document.

``monoculture analyze --json OUT`` writes it; ``monoculture report`` reads it back. Numbers
that are undefined are written as ``null``. Increase `SCHEMA_VERSION` on any change that an
older reader would misread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monoculture.errors import ReadError, SchemaError

SCHEMA_NAME = "monoculture.analysis"
SCHEMA_VERSION = 1

__all__ = [
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "AnalysisDocument",
    "Interval",
    "Summary",
    "read_document",
]


class Interval(BaseModel):
    """A figure with its bootstrap interval, the items it rests on and how the interval was
    made (``n`` and ``method`` are absent from documents written before they were added)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: float | None = Field(description="The estimate on the data as given.")
    ci_low: float | None = Field(description="Lower bound of the percentile interval.")
    ci_high: float | None = Field(description="Upper bound of the percentile interval.")
    n: int | None = Field(default=None, description="Number of items the figure rests on.")
    method: str | None = Field(
        default=None, description="How the interval was made (resamples, level, seed)."
    )


class Summary(BaseModel):
    """The headline figures. Figures with an interval are `Interval` objects; the others
    are numbers; ``null`` where a figure is undefined for the data (or, for
    ``mean_same_wrong``, ``fleiss_kappa`` and ``krippendorff_alpha``, needs answers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n_items: int = Field(description="Items used.")
    n_agents: int = Field(description="Agents used.")
    n_rows: int = Field(description="Scored (item, agent) cells.")
    n_complete_items: int = Field(description="Items scored for every agent.")
    best_agent_accuracy: Interval | None = Field(description="Accuracy of the best agent.")
    mean_agent_accuracy: Interval | None = Field(description="Mean accuracy of the agents.")
    mean_error_consistency: Interval | None = Field(
        description="Mean over pairs of Cohen's kappa on correct/incorrect."
    )
    mean_same_wrong: Interval | None = Field(
        description="Mean over pairs of P(same answer | both wrong, both parsed)."
    )
    systemic_failure_rate: Interval | None = Field(
        description="Items (scored by >= 2 agents) on which every scored agent is wrong."
    )
    systemic_failure_rate_independent: Interval | None = Field(
        description="The same for independent agents with these accuracies."
    )
    plurality_accuracy: Interval | None = Field(
        description="Accuracy of the plurality vote (fair tie-break)."
    )
    quiet_failure_share: Interval | None = Field(
        description="Wrong plurality votes with agreement >= quiet_threshold."
    )
    plurality_accuracy_independent: Interval | None = Field(
        description="Plurality accuracy of independent agents with these accuracies."
    )
    plurality_accuracy_independent_mc_se: float | None = Field(
        default=None,
        description="Upper bound on the Monte Carlo standard error of "
        "plurality_accuracy_independent above 150 agents; null where it is exact.",
    )
    icc: Interval | None = Field(description="ICC(3,1) of errors on complete items.")
    effective_agents: Interval | None = Field(description="n / (1 + (n - 1) icc).")
    mean_same_wrong_independent: float | None = Field(
        description="mean_same_wrong if errors spread uniformly over the wrong options."
    )
    quiet_threshold: float = Field(description="Agreement at or above which a vote is quiet.")
    aurc: float | None = Field(description="Area under the risk-coverage curve.")
    fleiss_kappa: float | None = Field(description="Fleiss' kappa on answers.")
    krippendorff_alpha: float | None = Field(description="Krippendorff's alpha on answers.")
    mean_error_phi: float | None = Field(description="Mean over pairs of the error phi.")
    mean_capa: float | None = Field(description="Mean over pairs of CAPA.")
    mean_difficulty_adjusted_error_consistency: float | None = Field(
        description="Mean over pairs of error consistency beyond a Rasch model."
    )
    mean_residual_error_correlation: float | None = Field(
        description="Mean over pairs of the Rasch residual correlation (Yen's Q3)."
    )
    n_clusters: int = Field(description="Clusters chosen by silhouette.")

    def value(self, name: str) -> float | None:
        """The number of a figure, with or without an interval; ``None`` when undefined."""
        entry = getattr(self, name)
        return entry.value if isinstance(entry, Interval) else entry


class Settings(BaseModel):
    """How the analysis was run."""

    bootstrap: int = Field(description="Number of item-bootstrap resamples (0 = no intervals).")
    seed: int = Field(description="Seed of the resampling.")
    level: float = Field(description="Confidence level of the intervals.")
    complete_only: bool = Field(description="Whether only items every agent answered were used.")
    quiet_threshold: float = Field(
        description="Agreement at or above which a wrong plurality vote counts as quiet."
    )
    interval_method: str = Field(description="How intervals were made.")


class InputInfo(BaseModel):
    """What was read and what was used."""

    source: str = Field(description="File or origin of the responses.")
    rows_read: int = Field(description="Rows (or cells) in the input.")
    rows_used: int = Field(description="Rows that became a scored (item, agent) cell.")
    left_out: dict[str, int] = Field(description="Reason -> rows not used for that reason.")
    notes: list[str] = Field(description="Other remarks on the input.")
    synthetic: bool = Field(
        default=False, description="True when the responses were generated, not observed."
    )
    answer_normalization: str | None = Field(
        default=None,
        description="How answers were compared with gold labels: none (as written, "
        "stripped), text (case, spacing and quotes folded) or number (75.00 = 75).",
    )


class PairMatrices(BaseModel):
    """Agent x agent matrices, rows and columns in `agents` order (cluster order)."""

    agents: list[str] = Field(description="Row and column order of every matrix.")
    matrices: dict[str, list[list[float | None]]] = Field(
        description="Metric name -> matrix (error_consistency, same_wrong_rate, capa, ...); "
        "entries named NAME_ci_low / NAME_ci_high hold per-pair interval bounds."
    )


class Clusters(BaseModel):
    """Hierarchical clustering of agents by error consistency."""

    n_clusters: int = Field(description="Number of clusters chosen.")
    silhouette: float | None = Field(description="Mean silhouette of that choice.")
    order: list[str] = Field(description="Agents in dendrogram leaf order.")
    linkage: list[list[float]] = Field(description="scipy linkage matrix (average linkage).")
    members: dict[str, list[str]] = Field(description="Cluster number -> agents.")


class AnalysisDocument(BaseModel):
    """Everything `analyze` measured, JSON-serialisable."""

    model_config = ConfigDict(extra="forbid")
    schema_name: Literal["monoculture.analysis"] = Field(
        default="monoculture.analysis",
        alias="schema",
        description="Always 'monoculture.analysis'.",
    )
    version: int = Field(default=SCHEMA_VERSION, description="Schema version.")
    generated_by: str = Field(description="monoculture version that wrote the file.")
    verdict: str = Field(description="One-line verdict, e.g. '31 agents behave like 2.9 ...'.")
    input: InputInfo
    settings: Settings
    summary: Summary
    undefined: dict[str, str] = Field(
        default_factory=dict,
        description="Summary figure -> why it is null for these data (e.g. 'an agent that "
        "is always right or always wrong on them'); absent figures are defined.",
    )
    agents: list[dict[str, object]] = Field(
        description="One record per agent: agent, accuracy, coverage, cluster, attributes."
    )
    pairwise: PairMatrices
    top_pairs: list[dict[str, object]] = Field(
        description="Most consistent pairs with their figures."
    )
    clusters: Clusters
    k_of_n: list[dict[str, float | None]] = Field(
        description="k-of-n failure distribution vs independence (complete items)."
    )
    vote_curve: list[dict[str, float | None]] = Field(
        description="Plurality accuracy of random sub-swarms by size vs independence."
    )
    risk_coverage: list[dict[str, float | None]] = Field(
        description="Risk and coverage when abstaining below each agreement level."
    )
    attributes: list[dict[str, object]] = Field(
        description="Association between sharing an agent attribute and error consistency."
    )
    systemic_items: list[dict[str, object]] = Field(
        description="Items failed by the largest share of agents, with the top wrong answer."
    )
    aggregation: dict[str, Any] | None = Field(
        default=None,
        description="Held-out comparison of aggregators (`monoculture aggregate --json` "
        "without the fitted parameters), when one was run: split, methods, dissent.",
    )
    governance: dict[str, Any] | None = Field(
        default=None,
        description="Decision power by agent group (Banzhaf and Shapley–Shubik shares of the "
        "plurality game with groups as blocs, Herfindahl–Hirschman concentration), pivotal "
        "shares on the real answers with intervals, single points of failure, and policy "
        "results (`monoculture.governance.governance_summary`); absent without categorical "
        "agent attributes or a policy.",
    )
    guard: dict[str, Any] | None = Field(
        default=None,
        description="The run's gate and monitors on this round (`guard-round-N.json` without "
        "the per-item decisions): gate, guarantee, figures, alarms with their step.",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def read_document(path: str | Path) -> AnalysisDocument:
    """Read an analysis JSON written by ``monoculture analyze --json``.

    Raises:
        ReadError: missing or unreadable file, or text that is not JSON (e.g. truncated).
        SchemaError: JSON of another schema or version, or fields that do not match it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReadError(f"{path}: cannot be read: {error}.") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}); the file may be "
            "truncated. Write it again with `monoculture analyze FILE --json OUT`."
        ) from None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA_NAME:
        found = raw.get("schema") if isinstance(raw, dict) else type(raw).__name__
        raise SchemaError(
            f"{path}: expected a {SCHEMA_NAME!r} document; found schema {found!r}. Give the "
            "JSON written by `monoculture analyze --json`."
        )
    if raw.get("version") != SCHEMA_VERSION:
        raise SchemaError(
            f"{path}: schema version {raw.get('version')!r}; this monoculture reads version "
            f"{SCHEMA_VERSION}. Re-run `monoculture analyze --json` with this version."
        )
    try:
        return AnalysisDocument.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SchemaError(
            f"{path}: field {where!r} does not match schema version {SCHEMA_VERSION}: "
            f"{first['msg']}. The file may be edited or truncated; write it again."
        ) from None
