"""Exact counting with matrix products: the workhorse of every pairwise metric.

Counting over items is a matrix product of 0/1 indicator matrices. float32 BLAS is exact
for integer sums below 2**24 (every partial sum is an integer that float32 represents), so
counts over fewer items than that run at float32 speed with no rounding at all; beyond it
we fall back to float64, exact below 2**53.
"""

from __future__ import annotations

import numpy as np

_FLOAT32_EXACT = 2**24
_CHUNK_BYTES = 256 * 2**20


def count_dtype(n_items: int) -> type[np.floating]:
    """float32 when every count fits exactly, else float64."""
    return np.float32 if n_items < _FLOAT32_EXACT else np.float64


def cross_counts(left: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    """``left.T @ right`` for 0/1 (or small integer) matrices of shape ``(n_items, n_agents)``.

    Returns float64 counts ``(n_agents, n_agents)``. ``right=None`` means ``left`` itself,
    which lets BLAS use the symmetric rank-k update (half the work).
    """
    dtype = count_dtype(left.shape[0])
    a = np.ascontiguousarray(left, dtype=dtype)
    if right is None:
        return (a.T @ a).astype(np.float64)
    b = np.ascontiguousarray(right, dtype=dtype)
    return (a.T @ b).astype(np.float64)


def one_hot_counts(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """``sum_x sum_o [codes_xi == o][codes_xj == o]``: same-label counts per pair.

    ``codes`` is ``(n_items, n_agents)`` with -1 for "no label" (never matches). Works in
    item chunks so the one-hot block stays near 256 MB whatever the number of labels.
    """
    n_items, n_agents = codes.shape
    dtype = count_dtype(n_items)
    total = np.zeros((n_agents, n_agents), dtype=np.float64)
    rows_per_chunk = max(1, _CHUNK_BYTES // max(1, n_agents * n_labels * 4))
    for start in range(0, n_items, rows_per_chunk):
        block = codes[start : start + rows_per_chunk]
        hot = np.zeros((block.shape[0], n_labels, n_agents), dtype=dtype)
        items, agents = np.nonzero(block >= 0)
        hot[items, block[items, agents], agents] = 1
        flat = hot.reshape(-1, n_agents)
        total += (flat.T @ flat).astype(np.float64)
    return total
