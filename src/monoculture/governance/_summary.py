"""The governance part of an analysis: power by group, concentration, pivotal shares and
policy results, as one JSON-ready dictionary for the reports.

For each categorical agent attribute (at most `MAX_ATTRIBUTES`: those that name who
controls an agent, `PREFERRED_ATTRIBUTES`, when there are any), the swarm's plurality vote is taken
as the simple-majority game of its groups voting as blocs (each group's weight = its
agents; `group_power`), with Banzhaf and Shapley–Shubik shares and their
Herfindahl–Hirschman concentration, and each group's empirical pivotal shares on the real
answers (`pivotal_power`, removal and flip, with item-bootstrap intervals); a group
flip-pivotal on more than half of the decided items is a single point of failure. With a
`Policy`, every rule is measured as ``monoculture check`` measures it on a results file.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from monoculture.errors import InputError, UndefinedMetricWarning
from monoculture.governance._pivotal import SINGLE_POINT_SHARE, agent_groups, pivotal_power
from monoculture.governance._policy import Policy, evaluate_policy
from monoculture.governance._power import group_power, majority_quota
from monoculture.metrics import Estimate
from monoculture.responses import Responses

__all__ = [
    "GOVERNANCE_SCHEMA_VERSION",
    "MAX_ATTRIBUTES",
    "PREFERRED_ATTRIBUTES",
    "check_governance_options",
    "governance_attributes",
    "governance_summary",
]

GOVERNANCE_SCHEMA_VERSION = 1
"""Version of the dictionary `governance_summary` returns (its ``version`` key)."""

PREFERRED_ATTRIBUTES = ("family", "developer", "constitution", "provider", "model")
"""Attributes that name who controls an agent; they come first, in this order."""

MAX_ATTRIBUTES = 4
"""At most this many attributes are summarised unless the caller names them."""


def _is_categorical(name: str, values: pd.Series) -> bool:
    if name in PREFERRED_ATTRIBUTES:
        return True  # a constitution coded 1, 2, 3 is still a category
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def governance_attributes(
    responses: Responses, *, limit: int = MAX_ATTRIBUTES
) -> tuple[list[str], list[dict[str, str]]]:
    """The agent attributes that define groups of agents, and those left out with why.

    Categorical attributes (text, or one of `PREFERRED_ATTRIBUTES` whatever its type) with
    at least two groups and fewer groups than agents: those of `PREFERRED_ATTRIBUTES` (who
    controls an agent: family, developer, ...) in that order when there are any, else the
    others in table order; the first ``limit`` are kept.

    Example:
        >>> import pandas as pd
        >>> r = Responses.from_arrays(answers=[[0, 1, 1, 0]], gold=[0], labels="AB")
        >>> attrs = pd.DataFrame({"agent": r.agents, "size": [7, 7, 70, 70],
        ...                       "access": ["open", "open", "api", "api"],
        ...                       "family": ["x", "x", "y", "z"]})
        >>> chosen, skipped = governance_attributes(r.with_agent_attributes(attrs))
        >>> chosen, [s["attribute"] for s in skipped]
        (['family'], ['size', 'access'])
    """
    attrs = responses.agent_attrs
    candidates: list[str] = []
    skipped: list[dict[str, str]] = []
    for column in attrs.columns:
        name = str(column)
        if not _is_categorical(name, attrs[column]):
            skipped.append({"attribute": name, "reason": "numeric, not a grouping"})
            continue
        n_groups = len(set(agent_groups(responses, name).tolist()))
        if n_groups < 2:
            skipped.append({"attribute": name, "reason": "every agent is in the same group"})
        elif n_groups == responses.n_agents:
            skipped.append({"attribute": name, "reason": "every agent is its own group (no blocs)"})
        else:
            candidates.append(name)
    # The attributes that name who controls an agent, when there are any; else the others.
    preferred = [a for a in PREFERRED_ATTRIBUTES if a in candidates]
    for name in candidates:
        if preferred and name not in preferred:
            skipped.append(
                {
                    "attribute": name,
                    "reason": "not one of " + ", ".join(PREFERRED_ATTRIBUTES) + " (name it to "
                    "include it)",
                }
            )
    ordered = preferred or candidates
    for name in ordered[limit:]:
        skipped.append(
            {"attribute": name, "reason": f"beyond the first {limit} (name it to include it)"}
        )
    return ordered[:limit], skipped


def check_governance_options(
    responses: Responses,
    *,
    attributes: Sequence[str] | None,
    policy: Policy | None,
    function: str,
) -> None:
    """Validate the governance options before any work (`InputError` naming the option)."""
    if policy is not None and not isinstance(policy, Policy):
        raise InputError(
            f"{function}: `policy` must be a Policy (monoculture.governance.load_policy); got "
            f"{type(policy).__name__}."
        )
    if attributes is None:
        return
    if isinstance(attributes, str) or not all(isinstance(a, str) for a in attributes):
        raise InputError(
            f"{function}: `governance_attributes` must be a list of agent attribute names; got "
            f"{attributes!r}."
        )
    have = [str(c) for c in responses.agent_attrs.columns]
    unknown = [a for a in attributes if a not in have]
    if unknown:
        raise InputError(
            f"{function}: `governance_attributes` names {unknown}, which the agents do not have "
            f"(attributes: {', '.join(have) or 'none'}); give an agent table with them "
            "(--agents FILE) or leave the option out."
        )


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _estimate(estimate: Estimate) -> dict[str, float | None]:
    return {
        "value": _number(estimate.value),
        "ci_low": _number(estimate.ci_low),
        "ci_high": _number(estimate.ci_high),
    }


def _attribute_summary(
    responses: Responses, attribute: str, *, bootstrap: int, level: float, seed: int
) -> dict[str, Any]:
    groups = agent_groups(responses, attribute)
    ones = np.ones(responses.n_agents)
    with warnings.catch_warnings():
        # a game nobody can swing (one bloc holds a majority... of nothing) is NaN by design
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        banzhaf = group_power(ones, groups, attribute=attribute, index="banzhaf")
        shapley = group_power(ones, groups, attribute=attribute, index="shapley_shubik")
    ss_share = dict(zip(shapley.groups, shapley.share.tolist(), strict=True))
    pivotal = (
        pivotal_power(responses, by=attribute, n_resamples=bootstrap, level=level, rng=seed)
        if responses.answers is not None
        else None
    )
    rows = []
    for k, group in enumerate(banzhaf.groups):
        row: dict[str, Any] = {
            "group": group,
            "n_agents": int(banzhaf.n_agents[k]),
            "vote_share": _number(float(banzhaf.weight_share[k])),
            "banzhaf": _number(float(banzhaf.share[k])),
            "shapley_shubik": _number(ss_share[group]),
        }
        if pivotal is not None:
            row["removal_pivotal"] = _estimate(pivotal.removal[group])
            row["flip_pivotal"] = _estimate(pivotal.flip[group])
            row["single_point_of_failure"] = group in pivotal.single_points_of_failure
        rows.append(row)
    return {
        "attribute": attribute,
        "n_groups": len(banzhaf.groups),
        "groups": rows,
        "hhi_banzhaf": _number(banzhaf.hhi),
        "effective_groups_banzhaf": _number(banzhaf.effective_groups),
        "hhi_shapley_shubik": _number(shapley.hhi),
        "effective_groups_shapley_shubik": _number(shapley.effective_groups),
        "single_points_of_failure": (
            list(pivotal.single_points_of_failure) if pivotal is not None else []
        ),
        "n_decided_items": pivotal.n_items if pivotal is not None else None,
    }


def governance_summary(
    responses: Responses,
    *,
    policy: Policy | None = None,
    attributes: Sequence[str] | None = None,
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    target_name: str = "<responses>",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any] | None:
    """Power by group, concentration, pivotal shares and policy results, JSON-ready.

    Args:
        responses: ``(n_items, n_agents)`` answers (pivotal shares need them) with agent
            attributes.
        policy: rules to check (`load_policy`), measured as ``monoculture check`` measures
            them on a results file, with the policy's own ``[settings]``.
        attributes: the agent attributes to summarise; default `governance_attributes`.
        bootstrap, level, seed: item-bootstrap resamples, level and seed of the pivotal
            shares' intervals.
        target_name: how the policy results name the data.
        progress: ``progress("governance", done, total)`` after each attribute and the policy.

    Returns:
        ``None`` when there is neither a categorical attribute nor a policy; else a
        dictionary: ``version``, ``rule`` (how the swarm decides), ``n_agents``, ``quota``,
        ``attributes`` (one entry per attribute: ``attribute``, ``n_groups``, ``groups``
        (``group``, ``n_agents``, ``vote_share``, ``banzhaf``, ``shapley_shubik``,
        ``removal_pivotal`` and ``flip_pivotal`` as ``{value, ci_low, ci_high}``,
        ``single_point_of_failure``), ``hhi_banzhaf``, ``effective_groups_banzhaf``,
        ``hhi_shapley_shubik``, ``effective_groups_shapley_shubik``,
        ``single_points_of_failure``, ``n_decided_items``), ``skipped_attributes``,
        ``pivotal_method``, ``pivotal_unavailable``, ``single_point_share`` and ``policy``
        (`PolicyReport.to_dict`, or ``None``). Undefined numbers are ``None``.

    Example (family ``a`` holds 3 of 5 votes):
        >>> import pandas as pd
        >>> r = Responses.from_arrays(
        ...     answers=[[0, 0, 0, 1, 1], [1, 1, 1, 0, 0]], gold=[0, 1], labels="AB")
        >>> fam = pd.DataFrame({"agent": r.agents, "family": ["a", "a", "a", "b", "c"]})
        >>> g = governance_summary(r.with_agent_attributes(fam), bootstrap=0)
        >>> top = g["attributes"][0]["groups"][0]
        >>> top["group"], top["banzhaf"], top["flip_pivotal"]["value"]
        ('a', 1.0, 1.0)
    """
    function = "governance_summary"
    if not isinstance(responses, Responses):
        raise InputError(f"{function}: expected a Responses; got {type(responses).__name__}.")
    check_governance_options(responses, attributes=attributes, policy=policy, function=function)
    if attributes is None:
        chosen, skipped = governance_attributes(responses)
    else:
        chosen, skipped = list(attributes), []
    if not chosen and policy is None:
        return None
    total = len(chosen) + (policy is not None)
    summaries = []
    for done, attribute in enumerate(chosen, start=1):
        summaries.append(
            _attribute_summary(responses, attribute, bootstrap=bootstrap, level=level, seed=seed)
        )
        if progress is not None:
            progress("governance", done, total)
    report = None
    if policy is not None:
        report = evaluate_policy(policy, responses, target_name=target_name).to_dict()
        if progress is not None:
            progress("governance", total, total)
    n = responses.n_agents
    return {
        "version": GOVERNANCE_SCHEMA_VERSION,
        "rule": "plurality, one vote per agent, ties to the lowest option code",
        "n_agents": n,
        "quota": majority_quota(np.ones(n)),
        "coalition": "bloc",
        "attributes": summaries,
        "skipped_attributes": skipped,
        "pivotal_method": (
            f"percentile item bootstrap, {bootstrap} resamples, level {level:g}, seed {seed}"
            if bootstrap
            else "no intervals (bootstrap = 0)"
        ),
        "pivotal_unavailable": (
            None
            if responses.answers is not None
            else "the data hold correctness only, not answers: who decides an item depends "
            "on what each agent answered"
        ),
        "single_point_share": SINGLE_POINT_SHARE,
        "policy": report,
    }
