"""Clusters and attribute association."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from monoculture import metrics
from monoculture.metrics._structure import _silhouette
from monoculture.synthetic import latent_swarm


def test_clusters_recover_the_families() -> None:
    swarm = latent_swarm(
        n_agents=9, n_items=3000, n_families=3, shared_loading=0.3, family_loading=2.0, seed=5
    )
    clusters = metrics.cluster_agents(metrics.error_consistency(swarm))
    assert clusters.n_clusters == 3
    family = swarm.agent_attrs["family"].to_numpy()
    for label in range(1, 4):
        members = clusters.labels.to_numpy() == label
        assert len(set(family[members])) == 1
    assert sorted(clusters.order) == sorted(clusters.labels.index)


def test_silhouette_equals_sklearn() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(12, 3))
    distance = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    labels = np.array([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3])
    expected = silhouette_score(distance, labels, metric="precomputed")
    assert _silhouette(distance, labels) == pytest.approx(expected, abs=1e-12)


def test_attribute_association_finds_the_family() -> None:
    swarm = latent_swarm(n_agents=9, n_items=2000, n_families=3, family_loading=2.0, seed=6)
    kappa = metrics.error_consistency(swarm)
    attrs = pd.DataFrame(
        {"family": swarm.agent_attrs["family"].to_numpy(), "noise": list("xyzxyzzyx")},
        index=swarm.agents,
    )
    table = metrics.attribute_association(kappa, attrs, n_permutations=499, rng=0)
    family = table.set_index("attribute").loc["family"]
    assert family["difference"] > 0.2
    assert family["p_value"] < 0.01
    assert table.set_index("attribute").loc["noise", "p_value"] > 0.05
