"""Metrics of correlated failure. Every public function takes a `Responses` first.

Conventions, the same for every function here:

- Undefined is NaN with an `UndefinedMetricWarning` naming the metric and the reason (e.g.
  kappa for an agent always right on the shared items); `InputError` only for malformed
  input or a missing requirement (no answers for an answer metric, no gold for CAPA).
- ``complete_only=True`` keeps the items every agent was scored on, wherever missing cells
  change the result; `icc`, `effective_agents`, `fleiss_kappa` and `k_of_n_failure_curve`
  always use complete items, and `coverage` measures the missing cells, so they have none.
- Functions that draw take ``rng``: an int seed, a `numpy.random.Generator`, or None.
- Options are keyword-only and checked before any work, with one message shape.

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

from monoculture.metrics._agents import accuracy, coverage
from monoculture.metrics._agreement import effective_agents, fleiss_kappa, icc, krippendorff_alpha
from monoculture.metrics._bootstrap import Estimate, bootstrap_summary
from monoculture.metrics._capa import capa
from monoculture.metrics._difficulty import (
    RaschFit,
    difficulty_adjusted_error_consistency,
    rasch_fit,
    residual_error_correlation,
)
from monoculture.metrics._failures import (
    independent_systemic_failure_rate,
    k_of_n_failure_curve,
    systemic_failure_rate,
)
from monoculture.metrics._loudness import (
    QUIET_AGREEMENT,
    aurc,
    quiet_failure_share,
    risk_coverage_curve,
)
from monoculture.metrics._pairwise import (
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
from monoculture.metrics._position import position_bias
from monoculture.metrics._structure import AgentClusters, attribute_association, cluster_agents
from monoculture.metrics._voting import (
    PluralityOutcome,
    independent_vote_accuracy,
    plurality_accuracy,
    plurality_outcome,
    vote_accuracy_curve,
)

__all__ = [
    "QUIET_AGREEMENT",
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
    "position_bias",
    "quiet_failure_share",
    "rasch_fit",
    "residual_error_correlation",
    "risk_coverage_curve",
    "same_wrong_rate",
    "systemic_failure_rate",
    "vote_accuracy_curve",
    "yules_q",
]
