"""Influence networks: who sees whose previous output. Built with networkx, stored sparse.

`influence_matrix` returns the row-stochastic matrix W (``W[i, j]`` = weight agent i gives
agent j's previous output), with a self-loop on every agent so that DeGroot averaging on a
connected network is aperiodic and converges.
"""

from __future__ import annotations

from typing import Literal

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import eigs

from monoculture.errors import InputError

NetworkKind = Literal["none", "complete", "small_world", "scale_free"]

__all__ = ["NetworkKind", "build_graph", "influence_matrix", "stationary_weights"]


def build_graph(
    kind: NetworkKind, n_agents: int, *, degree: int = 6, rewire: float = 0.1, seed: int = 0
) -> nx.Graph:
    """A networkx graph of ``n_agents`` nodes of the given kind."""
    if kind == "none":
        return nx.empty_graph(n_agents)
    if kind == "complete":
        return nx.complete_graph(n_agents)
    if degree >= n_agents:
        raise InputError(
            f"network: degree {degree} needs more than {degree} agents; got {n_agents}."
        )
    if kind == "small_world":
        return nx.connected_watts_strogatz_graph(n_agents, max(2, degree), rewire, seed=seed)
    if kind == "scale_free":
        return nx.barabasi_albert_graph(n_agents, max(1, degree // 2), seed=seed)
    raise InputError(
        f"network: unknown kind {kind!r}; use none, complete, small_world or scale_free."
    )


def influence_matrix(graph: nx.Graph) -> sparse.csr_matrix:
    """Row-stochastic CSR matrix of the graph with self-loops (equal weights)."""
    n = graph.number_of_nodes()
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(n), format="csr", dtype=np.float64)
    adjacency = sparse.csr_matrix(adjacency) + sparse.identity(n, format="csr")
    degrees = np.asarray(adjacency.sum(axis=1)).ravel()
    return sparse.csr_matrix(sparse.diags(1.0 / degrees) @ adjacency)


def stationary_weights(matrix: sparse.csr_matrix) -> np.ndarray:
    """The left eigenvector of a row-stochastic matrix for eigenvalue 1, summing to 1: the
    weights of DeGroot consensus (DeGroot 1974)."""
    _, vectors = eigs(matrix.T.astype(np.float64), k=1, which="LM")
    weights = np.real(vectors[:, 0])
    return np.asarray(weights / weights.sum())
