"""The Poisson-binomial distribution: the number of successes of independent, unequal
Bernoulli trials, the independence baseline for k-of-n failures and for votes."""

from __future__ import annotations

import numpy as np


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """``(..., m) -> (..., m + 1)``: P(k successes) for success probabilities ``p``.

    Exact recursion over trials (one vectorised step per trial, batched over ``...``).
    """
    p = np.asarray(p, dtype=np.float64)
    m = p.shape[-1]
    pmf = np.zeros((*p.shape[:-1], m + 1))
    pmf[..., 0] = 1.0
    for t in range(m):
        q = p[..., t : t + 1]
        shifted = np.concatenate([np.zeros_like(q), pmf[..., :-1]], axis=-1)
        pmf = pmf * (1.0 - q) + shifted * q
    return pmf
