"""Structure of the swarm: clusters of agents that fail alike, and which shared attributes
(family, developer, tuning, ...) go with failing alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from monoculture.errors import InputError
from monoculture.metrics._validate import Seed, check_count, make_rng, warn_undefined_because

__all__ = ["AgentClusters", "attribute_association", "cluster_agents"]


@dataclass(frozen=True)
class AgentClusters:
    """Average-linkage clustering of agents on ``1 - similarity``.

    Attributes:
        labels: cluster number (1..k) per agent, numbered in dendrogram order.
        order: agents in dendrogram leaf order (for heatmaps).
        linkage: the scipy linkage matrix.
        n_clusters: k, chosen by the best mean silhouette for k in 2..min(8, n - 1).
        silhouette: that mean silhouette (NaN when k was not chosen that way).

    Example:
        >>> sim = pd.DataFrame([[1, 0.9, 0.1], [0.9, 1, 0.2], [0.1, 0.2, 1]], index=list("abc"),
        ...                    columns=list("abc"))
        >>> clusters = cluster_agents(sim, n_clusters=2)
        >>> clusters.n_clusters, clusters.order
        (2, ['c', 'a', 'b'])
    """

    labels: pd.Series
    order: list[str]
    linkage: np.ndarray
    n_clusters: int
    silhouette: float


def _silhouette(distance: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a distance matrix (Rousseeuw 1987), vectorised over clusters."""
    clusters = np.unique(labels)
    member = (labels[:, None] == clusters[None, :]).astype(np.float64)  # (n, k)
    sizes = member.sum(axis=0)
    totals = distance @ member  # (n, k): summed distance to each cluster
    own = labels[:, None] == clusters[None, :]
    own_size = (member * sizes).sum(axis=1)
    a = np.where(own_size > 1, (totals * own).sum(axis=1) / np.maximum(own_size - 1, 1), 0.0)
    mean_other = np.where(own, np.inf, totals / sizes)
    b = mean_other.min(axis=1)
    spread = np.maximum(a, b)
    # Identical agents (all distances 0) have silhouette 0, not 0/0.
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where((own_size > 1) & (spread > 0), (b - a) / np.where(spread > 0, spread, 1), 0.0)
    return float(s.mean())


_TIE_BREAK = 1e-9
"""Size of the name-ordered nudge that decides tied merges (far below any real gap)."""


def _average_linkage(distance: np.ndarray, names: list[str]) -> np.ndarray:
    """scipy's average linkage, with tied merges decided by agent name.

    Each distance is nudged by less than `_TIE_BREAK`, by a rule of the two names alone, so
    that no two candidate merges tie; the merge heights reported are then recomputed from
    the distances as given (the mean distance between the two merged clusters).
    """
    n = len(names)
    rank = np.argsort(np.argsort(np.array(names, dtype=object)))
    low, high = np.minimum.outer(rank, rank), np.maximum.outer(rank, rank)
    nudged = distance + _TIE_BREAK * (low * n + high + 1) / (n * n + n)
    np.fill_diagonal(nudged, 0.0)
    linkage = hierarchy.linkage(squareform(nudged, checks=False), method="average")
    members: list[list[int]] = [[k] for k in range(n)]
    for row in linkage:
        left, right = members[int(row[0])], members[int(row[1])]
        row[2] = float(distance[np.ix_(left, right)].mean())
        members.append(left + right)
    return np.asarray(linkage)


def cluster_agents(similarity: pd.DataFrame, *, n_clusters: int | None = None) -> AgentClusters:
    """Cluster agents from a similarity matrix such as `error_consistency` (NaN -> 0).

    Average linkage on ``1 - similarity``. Exact ties between candidate merges are broken
    by agent name, not position, so the clusters do not depend on the order of the agents.

    Example:
        >>> sim = pd.DataFrame(
        ...     [[1, 0.9, 0, 0], [0.9, 1, 0, 0], [0, 0, 1, 0.8], [0, 0, 0.8, 1]],
        ...     index=list("abcd"), columns=list("abcd"),
        ... )
        >>> cluster_agents(sim).labels.tolist()
        [1, 1, 2, 2]
    """
    if not isinstance(similarity, pd.DataFrame) or similarity.shape[0] != similarity.shape[1]:
        raise InputError(
            "cluster_agents: `similarity` must be a square agent x agent DataFrame; got "
            f"shape {getattr(similarity, 'shape', None)}."
        )
    names = [str(a) for a in similarity.index]
    n = len(names)
    if n_clusters is not None:
        check_count(n_clusters, "n_clusters", "cluster_agents")
    values = similarity.to_numpy(dtype=np.float64)
    values = np.where(np.isfinite(values), values, 0.0)
    distance = np.clip(1.0 - (values + values.T) / 2.0, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    if n < 3:
        labels = np.ones(n, dtype=int)
        return AgentClusters(
            pd.Series(labels, index=names, name="cluster"), names, np.zeros((0, 4)), 1, float("nan")
        )
    linkage = _average_linkage(distance, names)
    order = hierarchy.leaves_list(linkage)
    if n_clusters is None:
        candidates = range(2, min(8, n - 1) + 1)
        scored = [
            (_silhouette(distance, hierarchy.fcluster(linkage, k, criterion="maxclust")), k)
            for k in candidates
        ]
        silhouette, k = max(scored) if scored else (float("nan"), 1)
    else:
        k, silhouette = n_clusters, float("nan")
    raw = hierarchy.fcluster(linkage, k, criterion="maxclust")
    # Renumber clusters in the order they appear along the dendrogram.
    first_seen = {label: rank + 1 for rank, label in enumerate(dict.fromkeys(raw[order]))}
    labels = np.array([first_seen[label] for label in raw])
    return AgentClusters(
        pd.Series(labels, index=names, name="cluster"),
        [names[i] for i in order],
        linkage,
        int(labels.max()),
        float(silhouette),
    )


def attribute_association(
    similarity: pd.DataFrame,
    attributes: pd.DataFrame,
    *,
    n_permutations: int = 999,
    rng: Seed = 0,
) -> pd.DataFrame:
    """How much pairwise similarity (e.g. error consistency) goes with sharing an attribute.

    For a categorical attribute: mean similarity of pairs that share it, of pairs that do
    not, and the difference. For a numeric one: the Pearson correlation between similarity
    and closeness (minus the absolute difference, on a log scale when all values are
    positive). p-values come from permuting the attribute across agents (Mantel test), all
    permutations in one batched computation.

    Returns:
        One row per attribute: ``attribute, kind, n_pairs, mean_shared, mean_not_shared,
        difference, correlation, p_value``.

    Example:
        >>> sim = pd.DataFrame(
        ...     [[1, 0.9, 0, 0], [0.9, 1, 0, 0], [0, 0, 1, 0.8], [0, 0, 0.8, 1]],
        ...     index=list("abcd"), columns=list("abcd"),
        ... )
        >>> family = pd.DataFrame({"family": ["x", "x", "y", "y"]}, index=list("abcd"))
        >>> row = attribute_association(sim, family).iloc[0]
        >>> round(float(row["mean_shared"]), 2), float(row["mean_not_shared"])
        (0.85, 0.0)
    """
    check_count(n_permutations, "n_permutations", "attribute_association")
    generator = make_rng(rng, "attribute_association")
    names = [str(a) for a in similarity.index]
    table = attributes.reindex(names)
    values = similarity.to_numpy(dtype=np.float64)
    upper_i, upper_j = np.triu_indices(len(names), k=1)
    pair_values = values[upper_i, upper_j]
    rows = []
    perms = np.stack([generator.permutation(len(names)) for _ in range(n_permutations)])
    for column in table.columns:
        raw = table[column]
        numeric = pd.to_numeric(raw, errors="coerce")
        is_numeric = numeric.notna().sum() == raw.notna().sum() and numeric.nunique() > 2
        if raw.notna().sum() < 2 or raw.nunique() < 2:
            continue
        if is_numeric:
            x = numeric.to_numpy(dtype=np.float64)
            if np.nanmin(x) > 0:
                x = np.log10(x)
            row = _numeric_association(x, perms, upper_i, upper_j, pair_values)
        else:
            codes, _ = pd.factorize(raw)
            row = _categorical_association(codes, perms, upper_i, upper_j, pair_values)
        if np.isnan(row["p_value"]):
            warn_undefined_because(
                "attribute_association",
                f"for attribute {str(column)!r} no pair of agents shares a value"
                if not is_numeric
                else f"attribute {str(column)!r} does not vary with the similarity",
            )
        rows.append(
            {"attribute": str(column), "kind": "numeric" if is_numeric else "categorical", **row}
        )
    return pd.DataFrame(
        rows,
        columns=[
            "attribute",
            "kind",
            "n_pairs",
            "mean_shared",
            "mean_not_shared",
            "difference",
            "correlation",
            "p_value",
        ],
    )


def _in_chunks(function: Any, perms: np.ndarray, n_pairs: int) -> tuple[np.ndarray, ...]:
    """Apply ``function`` to blocks of permutations, keeping each (block x pairs) array
    near 64 MB, and concatenate the results."""
    rows = max(1, int(8e6 // max(1, n_pairs)))
    parts = [function(perms[start : start + rows]) for start in range(0, len(perms), rows)]
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(len(parts[0])))


def _permutation_p_value(observed: float, null: np.ndarray) -> float:
    """Two-sided permutation p-value, ``(1 + #|null| >= |observed|) / (1 + #null)``; NaN
    when the observed figure is undefined (e.g. an attribute no two agents share), since
    nothing is then as extreme as it."""
    if not np.isfinite(observed):
        return float("nan")
    return float((1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + len(null)))


def _categorical_association(
    codes: np.ndarray,
    perms: np.ndarray,
    upper_i: np.ndarray,
    upper_j: np.ndarray,
    pair_values: np.ndarray,
) -> dict[str, float]:
    def difference(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        li, lj = labels[..., upper_i], labels[..., upper_j]
        valid = (li >= 0) & (lj >= 0) & np.isfinite(pair_values)
        shared = valid & (li == lj)
        other = valid & (li != lj)
        v = np.where(np.isfinite(pair_values), pair_values, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_shared = (v * shared).sum(-1) / shared.sum(-1)
            mean_other = (v * other).sum(-1) / other.sum(-1)
        return mean_shared, mean_other, valid.sum(-1)

    mean_shared, mean_other, n_pairs = difference(codes)
    null_shared, null_other = _in_chunks(
        lambda block: difference(codes[block])[:2], perms, len(upper_i)
    )
    observed = mean_shared - mean_other
    null = null_shared - null_other
    p_value = _permutation_p_value(observed, null)
    return {
        "n_pairs": int(n_pairs),
        "mean_shared": float(mean_shared),
        "mean_not_shared": float(mean_other),
        "difference": float(observed),
        "correlation": float("nan"),
        "p_value": float(p_value),
    }


def _numeric_association(
    x: np.ndarray,
    perms: np.ndarray,
    upper_i: np.ndarray,
    upper_j: np.ndarray,
    pair_values: np.ndarray,
) -> dict[str, float]:
    def correlation(values: np.ndarray) -> np.ndarray:
        closeness = -np.abs(values[..., upper_i] - values[..., upper_j])
        valid = np.isfinite(closeness) & np.isfinite(pair_values)
        c = np.where(valid, closeness, 0.0)
        v = np.where(valid, pair_values, 0.0)
        n = valid.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mc, mv = c.sum(-1) / n, v.sum(-1) / n
            cov = (valid * (c - mc[..., None]) * (v - mv[..., None])).sum(-1)
            sc = np.sqrt((valid * (c - mc[..., None]) ** 2).sum(-1))
            sv = np.sqrt((valid * (v - mv[..., None]) ** 2).sum(-1))
            return np.asarray(cov / (sc * sv))

    observed = float(correlation(x))
    (null,) = _in_chunks(lambda block: (correlation(x[block]),), perms, len(upper_i))
    p_value = _permutation_p_value(observed, null)
    n_pairs = int((np.isfinite(x[upper_i]) & np.isfinite(x[upper_j])).sum())
    return {
        "n_pairs": n_pairs,
        "mean_shared": float("nan"),
        "mean_not_shared": float("nan"),
        "difference": float("nan"),
        "correlation": observed,
        "p_value": float(p_value),
    }
