"""Metrics of correlated failure. Every public function takes a `Responses` first.

Per agent: `accuracy`, `coverage`. Pairwise (agent x agent DataFrames): `error_consistency`,
`kappa_bounds`, `normalized_error_consistency`, `error_consistency_pvalue`,
`copy_probability`, `capa`, `same_wrong_rate`, `conditional_failure`, `double_fault`,
`yules_q`, `error_phi`, `difficulty_adjusted_error_consistency`,
`residual_error_correlation`. Swarm: `plurality_accuracy`, `independent_vote_accuracy`,
`vote_accuracy_curve`, `systemic_failure_rate`, `independent_systemic_failure_rate`,
`k_of_n_failure_curve`, `icc`, `effective_agents`, `fleiss_kappa`, `krippendorff_alpha`.
Loudness: `quiet_failure_share`, `risk_coverage_curve`, `aurc`. Structure:
`cluster_agents`, `attribute_association`. Intervals: `bootstrap_summary`.
"""

from monoculture.metrics.agents import accuracy, coverage
from monoculture.metrics.agreement import effective_agents, fleiss_kappa, icc, krippendorff_alpha
from monoculture.metrics.bootstrap import Estimate, bootstrap_summary
from monoculture.metrics.capa import capa
from monoculture.metrics.difficulty import (
    RaschFit,
    difficulty_adjusted_error_consistency,
    rasch_fit,
    residual_error_correlation,
)
from monoculture.metrics.failures import (
    independent_systemic_failure_rate,
    k_of_n_failure_curve,
    systemic_failure_rate,
)
from monoculture.metrics.loudness import aurc, quiet_failure_share, risk_coverage_curve
from monoculture.metrics.pairwise import (
    PairCounts,
    conditional_failure,
    copy_probability,
    double_fault,
    error_consistency,
    error_consistency_pvalue,
    error_phi,
    kappa_bounds,
    normalized_error_consistency,
    pair_counts,
    pairwise_metrics,
    same_wrong_rate,
    yules_q,
)
from monoculture.metrics.structure import AgentClusters, attribute_association, cluster_agents
from monoculture.metrics.voting import (
    PluralityOutcome,
    independent_vote_accuracy,
    plurality_accuracy,
    plurality_outcome,
    vote_accuracy_curve,
)

__all__ = [
    "AgentClusters",
    "Estimate",
    "PairCounts",
    "PluralityOutcome",
    "RaschFit",
    "accuracy",
    "attribute_association",
    "aurc",
    "bootstrap_summary",
    "capa",
    "cluster_agents",
    "conditional_failure",
    "copy_probability",
    "coverage",
    "difficulty_adjusted_error_consistency",
    "double_fault",
    "effective_agents",
    "error_consistency",
    "error_consistency_pvalue",
    "error_phi",
    "fleiss_kappa",
    "icc",
    "independent_systemic_failure_rate",
    "independent_vote_accuracy",
    "k_of_n_failure_curve",
    "kappa_bounds",
    "krippendorff_alpha",
    "normalized_error_consistency",
    "pair_counts",
    "pairwise_metrics",
    "plurality_accuracy",
    "plurality_outcome",
    "quiet_failure_share",
    "rasch_fit",
    "residual_error_correlation",
    "risk_coverage_curve",
    "same_wrong_rate",
    "systemic_failure_rate",
    "vote_accuracy_curve",
    "yules_q",
]
