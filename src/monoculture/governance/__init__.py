"""Governance: who holds a swarm's decisions, and rules a machine can check.

Decision power of a weighted voting game (`power_indices`, `group_power`,
`herfindahl_hirschman`), empirical power on real answers (`pivotal_power`), and policy as
code (`load_policy`, `evaluate_policy`); `governance_summary` gathers them for the
reports. Methods and sources: ``docs/governance.md``;
the policy format: ``docs/policy.md``.
"""

from monoculture.governance._pivotal import (
    PivotalPower,
    agent_groups,
    pivotal_power,
    weighted_plurality,
)
from monoculture.governance._policy import (
    RULES,
    Policy,
    PolicyReport,
    PolicySettings,
    Rule,
    RuleResult,
    RuleSpec,
    detect_target_kind,
    evaluate_policy,
    load_policy,
    parse_policy,
)
from monoculture.governance._power import (
    GroupPower,
    PowerIndex,
    PowerIndices,
    group_power,
    herfindahl_hirschman,
    majority_quota,
    power_indices,
)
from monoculture.governance._summary import governance_attributes, governance_summary

__all__ = [
    "RULES",
    "GroupPower",
    "PivotalPower",
    "Policy",
    "PolicyReport",
    "PolicySettings",
    "PowerIndex",
    "PowerIndices",
    "Rule",
    "RuleResult",
    "RuleSpec",
    "agent_groups",
    "detect_target_kind",
    "evaluate_policy",
    "governance_attributes",
    "governance_summary",
    "group_power",
    "herfindahl_hirschman",
    "load_policy",
    "majority_quota",
    "parse_policy",
    "pivotal_power",
    "power_indices",
    "weighted_plurality",
]
