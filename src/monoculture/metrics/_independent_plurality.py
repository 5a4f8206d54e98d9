"""Plurality accuracy of independent agents whose errors spread uniformly over wrong options.

With ``C`` agents right (a Poisson-binomial count) and the other ``m = n - C`` each choosing
one of ``L = K - 1`` wrong options uniformly at random, the gold answer wins the plurality
when every wrong option gets fewer than ``C`` votes, and shares a fair tie-break with the
``t`` options that get exactly ``C``. ``win_credit(n, L)[c]`` is the expected credit given
``C = c``: an exact dynamic programme over the wrong options, in which the votes an option
receives, given ``r`` votes left for ``b`` options, are Binomial(r, 1/b).

Above ``_EXACT_LIMIT`` agents the programme grows as n^3; a seeded Monte Carlo estimate of
the same quantity (1,000,000 draws in all) takes over.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

from monoculture.metrics._poisson_binomial import poisson_binomial_pmf

_EXACT_LIMIT = 200
_MONTE_CARLO_DRAWS = 1_000_000


@lru_cache(maxsize=256)
def win_credit(n: int, n_wrong_options: int) -> np.ndarray:
    """``(n + 1,)``: expected plurality credit of gold given c = 0..n agents right."""
    if n_wrong_options < 1:
        return (np.arange(n + 1) > 0).astype(np.float64)
    if n > _EXACT_LIMIT:
        return _win_credit_monte_carlo(n, n_wrong_options)
    # share[b][r, j] = P(an option gets j of r remaining votes when b options remain).
    votes = np.arange(n + 1)
    share = [
        stats.binom.pmf(votes[None, :], votes[:, None], 1.0 / boxes_left)
        for boxes_left in range(1, n_wrong_options + 1)
    ]
    credit = np.zeros(n + 1)
    for c in range(1, n + 1):
        credit[c] = _credit_given_right(c, n - c, n_wrong_options, share)
    return credit


def _credit_given_right(c: int, m: int, n_options: int, share: list[np.ndarray]) -> float:
    # state[r, t]: probability that r wrong votes remain and t options so far got exactly c.
    state = np.zeros((m + 1, n_options + 1))
    state[m, 0] = 1.0
    for box in range(n_options):
        table = share[n_options - box - 1]
        new = np.zeros_like(state)
        for j in range(min(c, m) + 1):
            moved = state[j:, :] * table[j : m + 1, j][:, None]
            if j == c:
                new[: m + 1 - j, 1:] += moved[:, :-1]
            else:
                new[: m + 1 - j, :] += moved
        state = new
    return float((state[0, :] / (1.0 + np.arange(n_options + 1))).sum())


def _win_credit_monte_carlo(n: int, n_options: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    draws = max(1, _MONTE_CARLO_DRAWS // n)
    right = np.arange(n + 1)[:, None]  # c, broadcast over draws
    # All c at once: the n - c wrong votes of each draw spread over the wrong options.
    counts = rng.multinomial(
        np.broadcast_to(n - right, (n + 1, draws)), np.full(n_options, 1.0 / n_options)
    )
    top = counts.max(axis=2)
    ties = (counts == right[:, :, None]).sum(axis=2)
    credit = np.where(top < right, 1.0, np.where(top == right, 1.0 / (1 + ties), 0.0))
    credit[0] = 0.0
    return np.asarray(credit.mean(axis=1))


def independent_plurality_probability(accuracies: np.ndarray, n_options: int) -> np.ndarray:
    """``(..., n) -> (...)``: expected plurality credit of n independent agents."""
    n = accuracies.shape[-1]
    pmf = poisson_binomial_pmf(accuracies)
    return np.asarray(pmf @ win_credit(n, max(int(n_options) - 1, 0)))
