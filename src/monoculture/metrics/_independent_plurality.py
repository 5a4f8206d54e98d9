"""Plurality accuracy of independent agents whose errors spread uniformly over wrong options,
with abstentions (unparsed answers) that cast no vote, as in the observed vote.

Each agent is right with probability ``r``, abstains with ``u`` and otherwise votes for one
of the ``L = K - 1`` wrong options uniformly at random. Given ``c`` right and ``m`` wrong
votes, the gold answer wins when every wrong option gets fewer than ``c`` votes and shares a
fair tie-break with the ``t`` options that get exactly ``c``; with no vote at all the item
is lost, as in the observed vote.

``credit_table(n, L)[c, m]`` is that expected credit. The ``m`` wrong votes are multinomial,
``P(n_1..n_L) = m! / L^m / prod(n_i!)``, so for every ``m`` at once it is a coefficient of
a product of truncated exponential series (one polynomial product per ``c``): exact up to
`EXACT_LIMIT` agents, where the factorials stay inside float64. Above it a seeded Monte
Carlo estimate of the table takes over, and its standard error is reported
(`monte_carlo_se`).
"""

from __future__ import annotations

from functools import lru_cache
from math import comb, factorial

import numpy as np

from monoculture.metrics._poisson_binomial import poisson_binomial_pmf

EXACT_LIMIT = 150
"""Largest swarm whose vote probabilities are computed exactly (170! is float64's last)."""

_MONTE_CARLO_DRAWS = 2_000
"""Draws per number of wrong votes in the Monte Carlo table (SE <= 0.5 / sqrt(draws))."""


def monte_carlo_se(n_agents: int) -> float | None:
    """Upper bound on the Monte Carlo standard error of an independent-vote figure for a
    swarm of ``n_agents``; ``None`` where the figure is exact.

    Every cell of the table is a mean of ``_MONTE_CARLO_DRAWS`` credits in [0, 1] (SD at
    most 0.5), and a figure is a probability-weighted average of cells: its error is at
    most the largest cell's, whatever the correlation between cells.

    Example:
        >>> monte_carlo_se(31) is None, round(monte_carlo_se(500), 4)
        (True, 0.0112)
    """
    if n_agents <= EXACT_LIMIT:
        return None
    return float(0.5 / np.sqrt(_MONTE_CARLO_DRAWS))


@lru_cache(maxsize=128)
def credit_table(n: int, n_wrong_options: int) -> np.ndarray:
    """``(n + 1, n + 1)``: expected credit of gold given ``c`` right and ``m`` wrong votes
    (meaningful where ``c + m <= n``)."""
    if n_wrong_options < 1:  # a single option: any vote for it is right
        table = np.zeros((n + 1, n + 1))
        table[1:, :] = 1.0
        return table
    if n > EXACT_LIMIT:
        return _credit_table_monte_carlo(n, n_wrong_options)
    n_boxes = n_wrong_options
    inverse_factorial = np.array([1.0 / factorial(j) for j in range(n + 1)])
    # m! / L^m, the multinomial's normalisation, for every m.
    scale = np.array([factorial(m) / n_boxes**m for m in range(n + 1)], dtype=np.float64)
    table = np.zeros((n + 1, n + 1))
    for c in range(1, n + 1):
        below = np.where(np.arange(n + 1) < c, inverse_factorial, 0.0)  # sum_{j<c} x^j/j!
        powers = [np.eye(1, n + 1)[0]]  # below^0, below^1, ... truncated at degree n
        for _ in range(n_boxes):
            powers.append(np.convolve(powers[-1], below)[: n + 1])
        total = np.zeros(n + 1)
        for tied in range(n_boxes + 1):
            shift = tied * c
            if shift > n:
                break
            # tied options at exactly c votes: (x^c / c!)^t, the rest below c.
            ways = comb(n_boxes, tied) * inverse_factorial[c] ** tied
            term = np.zeros(n + 1)
            term[shift:] = powers[n_boxes - tied][: n + 1 - shift] * ways
            total += term / (1 + tied)
        table[c] = scale * total
    return table


def _credit_table_monte_carlo(n: int, n_boxes: int) -> np.ndarray:
    """The same table, each ``m`` estimated from seeded multinomial draws (all ``c`` from
    the same draws)."""
    rng = np.random.default_rng(0)
    table = np.zeros((n + 1, n + 1))
    table[1:, 0] = 1.0
    c_grid = np.arange(n + 1)
    for m in range(1, n + 1):
        counts = rng.multinomial(m, np.full(n_boxes, 1.0 / n_boxes), size=_MONTE_CARLO_DRAWS)
        top = counts.max(axis=1)
        # tied[d, c]: options with exactly c votes in draw d.
        tied = np.zeros((_MONTE_CARLO_DRAWS, n + 1))
        np.add.at(tied, (np.repeat(np.arange(_MONTE_CARLO_DRAWS), n_boxes), counts.ravel()), 1)
        wins = np.where(
            top[:, None] < c_grid[None, :],
            1.0,
            np.where(top[:, None] == c_grid[None, :], 1.0 / (1.0 + tied), 0.0),
        )
        table[:, m] = wins.mean(axis=0)
        table[0, m] = 0.0
    return table


def _right_wrong_pmf(right: np.ndarray, abstain: np.ndarray) -> np.ndarray:
    """``(..., n + 1, n + 1)``: P(c right and m wrong votes) for independent agents, exact
    recursion over agents (batched over ``...``)."""
    n = right.shape[-1]
    wrong = 1.0 - right - abstain
    pmf = np.zeros((*right.shape[:-1], n + 1, n + 1))
    pmf[..., 0, 0] = 1.0
    for a in range(n):
        r = right[..., a, None, None]
        u = abstain[..., a, None, None]
        w = wrong[..., a, None, None]
        new = pmf * u
        new[..., 1:, :] += pmf[..., :-1, :] * r
        new[..., :, 1:] += pmf[..., :, :-1] * w
        pmf = new
    return pmf


def independent_plurality_probability(
    right: np.ndarray, n_options: int, abstain: np.ndarray | None = None
) -> np.ndarray:
    """``(..., n) -> (...)``: expected plurality credit of ``n`` independent agents, right
    with probabilities ``right``, abstaining with ``abstain`` (default: never)."""
    right = np.asarray(right, dtype=np.float64)
    n = right.shape[-1]
    table = credit_table(n, max(int(n_options) - 1, 0))
    if abstain is None or not np.any(abstain):
        # No abstention: m = n - c, a Poisson-binomial count suffices.
        pmf = poisson_binomial_pmf(right)
        return np.asarray(pmf @ table[np.arange(n + 1), n - np.arange(n + 1)])
    joint = _right_wrong_pmf(right, np.broadcast_to(abstain, right.shape))
    return np.asarray((joint * table).sum(axis=(-2, -1)))
