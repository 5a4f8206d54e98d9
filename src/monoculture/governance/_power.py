"""Decision power in a weighted voting game: Banzhaf and Shapley–Shubik indices, exact by
generating functions or by Monte Carlo with standard errors, per player and per group.

The game ``[q; w_1, ..., w_n]``: a coalition wins when its weight is at least the quota
``q``. Player ``i`` is a *swing* in a coalition ``S`` of the others when ``S`` loses and
``S + i`` wins.

- Banzhaf (1965): ``beta'_i = #swings of i / 2^(n-1)``, the chance that ``i`` swings a
  uniformly random coalition of the others (the absolute index, Dubey & Shapley 1979);
  the index reported as ``share`` is ``beta'_i / sum_j beta'_j``.
- Shapley & Shubik (1954): the chance that ``i`` is pivotal in a uniformly random order of
  all players, ``phi_i = (1/n) sum_s P(a random s-subset of the others is a swing for i)``.

Exact computation (Brams & Affuso 1976; Bilbao, Fernández, Jiménez Losada & López 2000,
"Generating functions for computing power indices efficiently", TOP 8(2):191–213): the
number of coalitions of each weight is the coefficient list of ``prod_j (1 + x^{w_j})``;
the others' list for player ``i`` comes from dividing out ``(1 + x^{w_i})``, once per
distinct weight. Banzhaf keeps the coefficients in probability scale (divided by ``2^n``),
so nothing overflows, and the division is a stable alternating sum; it costs ``O(n W)``
time for total weight ``W`` (pseudo-polynomial). Shapley–Shubik needs coalition sizes too:
the table of ``prod_j (1 + y x^{w_j})`` by size and weight is built once (``O(n^2 W / 4)``
additions, over sizes up to ``n / 2``) and one player per distinct weight is divided out
of it, over only the band of weights where that player swings. Exact needs integer
weights: give ``resolution`` to round real weights to multiples of it, or use
``method="monte_carlo"`` for the real weights.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from monoculture.errors import InputError, UndefinedMetricWarning

__all__ = [
    "GroupPower",
    "PowerIndex",
    "PowerIndices",
    "group_power",
    "herfindahl_hirschman",
    "majority_quota",
    "power_indices",
]

PowerIndex = Literal["banzhaf", "shapley_shubik"]
PowerMethod = Literal["exact", "monte_carlo"]
Coalition = Literal["bloc", "members"]

_MAX_TOTAL_WEIGHT = 50_000_000
"""Largest integer total weight solved exactly (the coefficient list is 8 bytes per unit)."""

_MAX_SHAPLEY_STEPS = 6e10
"""Largest ``n (n/2) w / 2`` cell additions (``w = max(q - 1, W - q)``) solved exactly for
Shapley–Shubik: about half a minute on one core."""

_MAX_SHAPLEY_TABLE = 60_000_000
"""Largest Shapley–Shubik table, ``(n/2 + 1) w`` cells; two are held (8 bytes a cell)."""

_SHAPLEY_BAND = 16
"""Rows of the Shapley–Shubik table updated by one numpy call, each over its own range."""


_MC_BLOCK_CELLS = 4_000_000
"""Monte Carlo samples are drawn in blocks of about this many (sample, player) cells."""


@dataclass(frozen=True, eq=False)
class PowerIndices:
    """Power indices of the players of one weighted voting game.

    Attributes:
        index: ``"banzhaf"`` or ``"shapley_shubik"``.
        players: ``(n,)`` player names.
        weights: ``(n,)`` float64, the weights as given.
        game_weights: ``(n,)`` float64, the weights of the game solved: the given ones, or
            for exact indices of real weights, ``round(weight / resolution)``.
        quota: a coalition wins when its game weight is at least this (for the default
            majority of real weights in Monte Carlo, when it is more than half the total).
        share: ``(n,)`` float64, the normalised index: shares summing to 1 (NaN, with an
            `UndefinedMetricWarning`, when no player is ever a swing).
        raw: ``(n,)`` float64, Banzhaf: the absolute index ``beta'`` (swing probability);
            Shapley–Shubik: the same as ``share`` (it sums to 1 by itself).
        std_error: ``(n,)`` float64, Monte Carlo standard error of ``share`` (0 for exact).
        method: how it was computed (exact, or Monte Carlo with samples and seed).
        resolution: the rounding step of real weights for exact indices; ``None`` otherwise.
    """

    index: PowerIndex
    players: tuple[str, ...]
    weights: np.ndarray
    game_weights: np.ndarray
    quota: float
    share: np.ndarray
    raw: np.ndarray
    std_error: np.ndarray
    method: str
    resolution: float | None = None

    def __post_init__(self) -> None:
        for name in ("weights", "game_weights", "share", "raw", "std_error"):
            getattr(self, name).flags.writeable = False

    @property
    def hhi(self) -> float:
        """Herfindahl–Hirschman concentration of ``share`` (see `herfindahl_hirschman`)."""
        return herfindahl_hirschman(self.share)

    def to_frame(self) -> pd.DataFrame:
        """One row per player: ``weight, game_weight, share, raw, std_error``.

        Example:
            >>> power_indices([2, 1, 1]).to_frame()["share"].round(3).tolist()
            [0.6, 0.2, 0.2]
        """
        return pd.DataFrame(
            {
                "weight": self.weights,
                "game_weight": self.game_weights,
                "share": self.share,
                "raw": self.raw,
                "std_error": self.std_error,
            },
            index=pd.Index(self.players, name="player"),
        )


@dataclass(frozen=True, eq=False)
class GroupPower:
    """Decision power of groups of agents (model family, developer, constitution, ...).

    Attributes:
        attribute: the agent attribute that defines the groups (``"family"``, ...).
        coalition: ``"bloc"``: each group votes as one player with its members' total
            weight (the game among groups); ``"members"``: members vote on their own and a
            group's power is the sum of its members' indices.
        groups: ``(g,)`` group names, in order of decreasing power.
        n_agents: ``(g,)`` agents in each group.
        weight_share: ``(g,)`` each group's share of the total weight.
        power: the indices; in ``"bloc"`` mode its players are the groups, in
            ``"members"`` mode the agents.
        share: ``(g,)`` each group's power share (sums to 1).
        std_error: ``(g,)`` Monte Carlo standard error of ``share`` (0 for exact).
        hhi: Herfindahl–Hirschman index of ``share``: 1 = one group holds all power.
        effective_groups: ``1 / hhi``, the number of equally powerful groups that would
            give the same concentration.
    """

    attribute: str
    coalition: Coalition
    groups: tuple[str, ...]
    n_agents: np.ndarray
    weight_share: np.ndarray
    power: PowerIndices
    share: np.ndarray
    std_error: np.ndarray
    hhi: float
    effective_groups: float

    def __post_init__(self) -> None:
        for name in ("n_agents", "weight_share", "share", "std_error"):
            getattr(self, name).flags.writeable = False

    @property
    def top(self) -> tuple[str, float]:
        """The most powerful group and its share."""
        return self.groups[0], float(self.share[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per group: ``n_agents, weight_share, power_share, std_error``."""
        return pd.DataFrame(
            {
                "n_agents": self.n_agents,
                "weight_share": self.weight_share,
                "power_share": self.share,
                "std_error": self.std_error,
            },
            index=pd.Index(self.groups, name=self.attribute),
        )


def herfindahl_hirschman(shares: Sequence[float] | np.ndarray) -> float:
    """Herfindahl–Hirschman index ``sum_i s_i^2`` of shares that sum to 1.

    From ``1/n`` (equal shares) to 1 (one holder); ``1 / hhi`` is the effective number of
    holders. Shares are renormalised to sum to 1; NaN, with an `UndefinedMetricWarning`,
    when they are undefined or all zero. (Hirschman 1945; Herfindahl 1950.)

    Example:
        >>> herfindahl_hirschman([0.5, 0.25, 0.25])
        0.375
    """
    values = np.asarray(shares, dtype=np.float64)
    total = float(values.sum()) if values.size else 0.0
    if values.size == 0 or not np.isfinite(values).all() or total <= 0:
        warnings.warn(
            "herfindahl_hirschman is undefined (NaN): the shares are undefined or all zero.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    return float(((values / total) ** 2).sum())


def majority_quota(weights: Sequence[float] | np.ndarray) -> int:
    """Simple majority of integer weights: ``floor(W / 2) + 1`` for total weight ``W``.

    Example:
        >>> majority_quota([4, 4, 4, 2, 2, 1])
        9
    """
    return int(np.asarray(weights, dtype=np.float64).sum()) // 2 + 1


# ---------------------------------------------------------------------------- kernels
def _weight_distribution(weights: np.ndarray, top: int) -> np.ndarray:
    """``(top + 1,)`` P(weight of a uniformly random coalition = k), truncated at ``top``.

    The coefficients of ``prod_j (1 + x^{w_j}) / 2``: one shifted add per player.
    """
    dist = np.zeros(top + 1)
    dist[0] = 1.0
    reach = 0
    for w in weights:
        if w == 0:
            continue  # (1 + x^0) / 2 = 1: a zero-weight player changes nothing
        reach = min(reach + int(w), top)
        if w <= reach:
            shifted = dist[: reach + 1 - w].copy()
            dist[: reach + 1] *= 0.5
            dist[w : reach + 1] += 0.5 * shifted
        else:
            dist[: reach + 1] *= 0.5
    return dist


def _divide_out(dist: np.ndarray, w: int) -> np.ndarray:
    """The others' distribution ``o`` from ``dist = (o + x^w o) / 2``, over ``dist``'s range.

    ``o[k] = 2 dist[k] - o[k - w]``: blocks of ``w`` coefficients give an alternating
    cumulative sum, whose partial sums are probabilities, so errors do not grow.
    """
    size = dist.shape[0]
    blocks = -(-size // w)
    padded = np.zeros(blocks * w)
    padded[:size] = 2.0 * dist
    table = padded.reshape(blocks, w)
    sign = np.where(np.arange(blocks) % 2 == 0, 1.0, -1.0)[:, None]
    others = np.cumsum(sign * table, axis=0) * sign
    return np.asarray(np.clip(others.ravel()[:size], 0.0, 1.0))


def _banzhaf_exact(weights: np.ndarray, quota: int) -> np.ndarray:
    """``(n,)`` absolute Banzhaf indices ``beta'_i`` of ``[quota; weights]`` (integers)."""
    dist = _weight_distribution(weights, quota - 1)
    raw = np.zeros(weights.shape[0])
    for w in np.unique(weights[weights > 0]):
        others = _divide_out(dist, int(w))
        raw[weights == w] = others[max(quota - int(w), 0) : quota].sum()
    return raw


def _shapley_shubik_scale(n: int, half: int) -> int:
    """Smallest ``e >= 0`` with ``C(n, s) / 2^(e s) < 2^1000`` for every size ``s <= half``.

    Coalition counts by size reach ``C(n, n/2)`` (about ``2^995`` for 1,000 players), so up
    to about 1,020 players the table holds plain counts (``e = 0``); beyond, row ``s`` is
    kept divided by ``2^(e s)``, a power of two, so the scaling itself is exact.
    """
    sizes = np.arange(half + 1, dtype=np.float64)
    log2_counts = np.array(
        [math.lgamma(n + 1) - math.lgamma(s + 1) - math.lgamma(n - s + 1) for s in sizes]
    ) / math.log(2)
    e = 0
    while float(np.max(log2_counts - e * sizes)) >= 1000.0:
        e += 1
    return e


def _coalition_table(weights: np.ndarray, half: int, width: int, e: int) -> np.ndarray:
    """``(half + 1, width)`` number of s-subsets of all players weighing ``k``, ``/ 2^(e s)``.

    The coefficients of ``prod_j (1 + y x^{w_j})``, truncated to ``s <= half``, ``k < width``.
    Players are added in increasing weight, so after ``m`` of them the s-subsets weigh
    between the sums of the ``s`` lightest and of the ``s`` heaviest so far; each step
    touches only that range, in bands of rows, and writes into a second table, so the
    shifted operand is never copied. The step is bound by memory bandwidth (about 3e9 cells
    for 1,000 players with weights to 100): threads splitting the columns did not help.
    """
    ordered = np.sort(weights).tolist()
    table = np.zeros((half + 1, width))
    table[0, 0] = 1.0
    new = table.copy()
    prefix = [0, *itertools.accumulate(ordered)]
    scale = math.ldexp(1.0, -e)
    for m, w in enumerate(ordered):
        if w >= width:
            break  # every coalition holding this player (or a later, heavier one) is past the table
        for s0 in range(1, min(m + 1, half) + 1, _SHAPLEY_BAND):
            if prefix[s0] >= width:
                break  # these rows, and all above, stay zero
            s1 = min(s0 + _SHAPLEY_BAND, min(m + 1, half) + 1)
            # rows s0 .. s1-1 read rows s0-1 .. s1-2, which (m players so far) weigh from
            # prefix[s0 - 1] to the sum of the s1 - 2 heaviest; new = old + scale x shifted
            lo = min(prefix[s0 - 1] + w, width)
            hi = min(prefix[m] - prefix[m - (s1 - 2)] + w, width - 1)
            if lo <= hi:
                out = new[s0:s1, lo : hi + 1]
                if e == 0:
                    np.add(
                        table[s0:s1, lo : hi + 1],
                        table[s0 - 1 : s1 - 1, lo - w : hi - w + 1],
                        out=out,
                    )
                else:
                    np.multiply(table[s0 - 1 : s1 - 1, lo - w : hi - w + 1], scale, out=out)
                    out += table[s0:s1, lo : hi + 1]
            # below lo the shifted term is zero: copy the rows' own values
            start = prefix[s0]
            if start < lo:
                new[s0:s1, start:lo] = table[s0:s1, start:lo]
        table, new = new, table
    return table


def _shapley_shubik_exact(weights: np.ndarray, quota: int) -> np.ndarray:
    """``(n,)`` Shapley–Shubik indices of ``[quota; weights]`` (integers).

    ``phi_i = sum_s sigma(s) N_i(s)``, ``sigma(s) = s! (n-1-s)! / n! = 1 / (n C(n-1, s))``,
    where ``N_i(s)`` counts the s-subsets of the others weighing ``k`` in ``[q - w_i, q - 1]``.
    The table ``T`` of all players (`_coalition_table`) is built once; removing one player
    of weight ``w`` is the exact division ``O = T / (1 + y x^w)``, ``O[s, k] = sum_j (-1)^j
    T[s-j, k-jw]``, so over the band, with ``C`` the cumulative sum of ``T`` along ``k``,
    ``N(s) = sum_j (-1)^j (C[s-j, hi-jw] - C[s-j, lo-1-jw])`` (``lo - 1 - jw = hi - (j+1) w``).
    That is one gather per distinct weight, ``O(n min(q/w, n))``, and players of equal weight
    share it. Sizes ``s <= n/2`` are read directly: there each term is at most twice the
    result's scale (``C(n, s) <= 2 C(n-1, s)``), so the alternating sum does not lose
    precision; sizes above ``n/2`` are the complements of sizes below (the others less an
    s-subset weighing ``k`` leave ``n - 1 - s`` players weighing ``W - w - k``, and
    ``sigma(s) = sigma(n-1-s)``). Costs ``O(n^2 W / 4)`` cell additions for the table, over
    weights up to ``max(q - 1, W - q)``. Counts by size reach ``C(1000, 500) ~ 1e299``: they
    are kept as counts while they fit in float64 and scaled by ``2^(-e s)`` beyond
    (`_shapley_shubik_scale`); every table entry is a sum of non-negative terms.
    """
    n = weights.shape[0]
    total = int(weights.sum())
    if n == 1:
        return np.ones(1)
    half = n // 2
    width = max(quota - 1, total - quota) + 1
    e = _shapley_shubik_scale(n, half)
    table = _coalition_table(weights, half, width, e)
    # cumulative[a, 1 + k] = sum of table[a, :k + 1]; column 0 is the empty sum
    cumulative = np.zeros((half + 1, width + 1))
    np.cumsum(table, axis=1, out=cumulative[:, 1:])
    del table
    # tau[s] = 2^(e s) sigma(s), correctly rounded from exact integers
    tau = np.array([(1 << (e * s)) / (n * math.comb(n - 1, s)) for s in range(half + 1)])
    result = np.zeros(n)
    for w in np.unique(weights).tolist():
        if w == 0:
            continue  # a dummy: never pivotal
        swing = 0.0
        # sizes s <= half: band [q - w, q - 1]; sizes above: complements of size
        # n - 1 - s <= n - 2 - half, band [W - w - q + 1, W - q]
        for hi, top in ((quota - 1, half), (total - quota, n - 2 - half)):
            if top < 0:
                continue
            steps = min(hi // w, top) + 1
            shifts = np.arange(steps)
            # at[a, j] = C[a, hi - j w] (0 left of column 0), j = 0 .. steps
            at = cumulative[: top + 1, np.maximum(hi + 1 - w * np.arange(steps + 1), 0)]
            # window[j, a] = tau[a + j] where a + j <= top, else 0
            padded = np.zeros(top + steps)
            padded[: top + 1] = tau[: top + 1]
            window = sliding_window_view(padded, top + 1)[:steps]
            # sum_a tau[a + j] (C[a, hi - jw] - C[a, hi - (j+1) w]): the band mass, shifted
            # (the difference first: the cumulative sums are larger than the band mass)
            band = at[:, :-1] - at[:, 1:]
            per_shift = np.einsum("ja,aj->j", window, band)
            sign = np.where(shifts % 2 == 0, 1.0, -1.0)
            swing += float(np.sum(sign * np.ldexp(per_shift, -e * shifts)))
        result[weights == w] = swing
    return np.asarray(np.clip(result, 0.0, 1.0))


def _wins(total: np.ndarray, quota: float, strict_half: float | None) -> np.ndarray:
    if strict_half is not None:
        return np.asarray(total > strict_half)
    return np.asarray(total >= quota)


def _banzhaf_monte_carlo(
    weights: np.ndarray,
    quota: float,
    strict_half: float | None,
    n_samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absolute index, share and the share's standard error from random coalitions.

    Each coalition ``S`` gives every player an unbiased swing indicator; the share is a
    ratio of means, with a delta-method standard error.
    """
    n = weights.shape[0]
    block = max(1, _MC_BLOCK_CELLS // n)
    sums = np.zeros(n)
    sum_t = 0.0
    sum_t2 = 0.0
    sum_xt = np.zeros(n)
    done = 0
    while done < n_samples:
        size = min(block, n_samples - done)
        member = rng.random((size, n)) < 0.5
        total = member @ weights
        others = total[:, None] - member * weights
        swing = ~_wins(others, quota, strict_half) & _wins(others + weights, quota, strict_half)
        x = swing.astype(np.float64)
        t = x.sum(axis=1)
        sums += x.sum(axis=0)
        sum_xt += x.T @ t
        sum_t += float(t.sum())
        sum_t2 += float(t @ t)
        done += size
    mean_x = sums / n_samples
    mean_t = sum_t / n_samples
    with np.errstate(invalid="ignore", divide="ignore"):
        share = mean_x / mean_t if mean_t > 0 else np.full(n, np.nan)
        # Var(x_i - r_i t) = E x_i^2 - 2 r E x_i t + r^2 E t^2 (x_i is 0/1, so E x_i^2 = E x_i)
        var = mean_x - 2 * share * sum_xt / n_samples + share**2 * sum_t2 / n_samples
        se = np.sqrt(np.maximum(var, 0.0) / n_samples) / mean_t
    return mean_x, share, se


def _shapley_shubik_monte_carlo(
    weights: np.ndarray,
    quota: float,
    strict_half: float | None,
    n_samples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Share and standard error from random orders: the pivot of each order."""
    n = weights.shape[0]
    block = max(1, _MC_BLOCK_CELLS // n)
    counts = np.zeros(n)
    done = 0
    while done < n_samples:
        size = min(block, n_samples - done)
        order = rng.random((size, n)).argsort(axis=1)
        running = np.cumsum(weights[order], axis=1)
        position = _wins(running, quota, strict_half).argmax(axis=1)
        counts += np.bincount(order[np.arange(size), position], minlength=n)
        done += size
    share = counts / n_samples
    return share, np.sqrt(share * (1 - share) / n_samples)


# ---------------------------------------------------------------------------- public
def _check_weights(weights: Sequence[float] | np.ndarray, function: str) -> np.ndarray:
    try:
        array = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"{function}: `weights` must be numbers, one per player; got {weights!r}."
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise InputError(
            f"{function}: `weights` must be a non-empty 1-D list, one weight per player; got "
            f"shape {array.shape}."
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        raise InputError(
            f"{function}: `weights` must be finite and >= 0; got {array[bad][:5].tolist()} at "
            f"position(s) {np.flatnonzero(bad)[:5].tolist()}."
        )
    if array.sum() <= 0:
        raise InputError(f"{function}: `weights` sum to 0; give at least one positive weight.")
    return array


def power_indices(
    weights: Sequence[float] | np.ndarray,
    *,
    quota: float | None = None,
    index: PowerIndex = "banzhaf",
    method: PowerMethod = "exact",
    resolution: float | None = None,
    players: Sequence[str] | None = None,
    n_samples: int = 20_000,
    rng: int | np.random.Generator | None = 0,
) -> PowerIndices:
    """Banzhaf or Shapley–Shubik indices of the weighted voting game ``[quota; weights]``.

    Args:
        weights: ``(n,)`` non-negative voting weights.
        quota: a coalition wins when its weight is at least ``quota``; default the simple
            majority, more than half the total weight (``floor(W / 2) + 1`` for integers).
        index: ``"banzhaf"`` (Banzhaf 1965) or ``"shapley_shubik"`` (Shapley & Shubik 1954).
        method: ``"exact"`` by generating functions (integer weights, or real weights with
            ``resolution``) or ``"monte_carlo"`` (any real weights, with standard errors).
        resolution: for exact indices of real weights: each weight is rounded to a
            multiple of this (``round(w / resolution)`` becomes the integer weight) and the
            quota to the next multiple; the result records it.
        players: names, default ``player_0, ...``.
        n_samples: Monte Carlo coalitions (Banzhaf) or orders (Shapley–Shubik).
        rng: seed or Generator of the Monte Carlo draws.

    Returns:
        `PowerIndices`; ``share`` sums to 1.

    Raises:
        InputError: negative or non-finite weights, non-integer weights for exact indices
            without ``resolution``, a quota outside ``(0, W]``, or a game too large.

    Example (the EEC Council of Ministers, 1958; Banzhaf 5/21, 5/21, 5/21, 3/21, 3/21, 0):
        >>> eec = power_indices([4, 4, 4, 2, 2, 1], quota=12)
        >>> (eec.share * 21).round(6).tolist()
        [5.0, 5.0, 5.0, 3.0, 3.0, 0.0]
        >>> ss = power_indices([4, 4, 4, 2, 2, 1], quota=12, index="shapley_shubik")
        >>> (ss.share * 60).round(6).tolist()
        [14.0, 14.0, 14.0, 9.0, 9.0, 0.0]
    """
    function = "power_indices"
    given = _check_weights(weights, function)
    n = given.shape[0]
    if index not in ("banzhaf", "shapley_shubik"):
        raise InputError(
            f"{function}: `index` must be 'banzhaf' or 'shapley_shubik'; got {index!r}."
        )
    if method not in ("exact", "monte_carlo"):
        raise InputError(f"{function}: `method` must be 'exact' or 'monte_carlo'; got {method!r}.")
    names = tuple(f"player_{i}" for i in range(n)) if players is None else tuple(map(str, players))
    if len(names) != n:
        raise InputError(
            f"{function}: `players` must name each of the {n} players; got {len(names)} names."
        )
    if quota is not None and not (
        isinstance(quota, int | float) and math.isfinite(quota) and 0 < quota <= given.sum()
    ):
        raise InputError(
            f"{function}: `quota` must be a number in (0, total weight = {given.sum():g}]; "
            f"got {quota!r}. Leave it out for a simple majority."
        )
    if resolution is not None and not (
        isinstance(resolution, int | float) and math.isfinite(resolution) and resolution > 0
    ):
        raise InputError(f"{function}: `resolution` must be a number > 0; got {resolution!r}.")
    if method == "monte_carlo":
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
            raise InputError(f"{function}: `n_samples` must be an integer >= 2; got {n_samples!r}.")
        generator = np.random.default_rng(rng)
        strict = None if quota is not None else float(given.sum()) / 2.0
        q = float(quota) if quota is not None else float(given.sum()) / 2.0
        if index == "banzhaf":
            raw, share, se = _banzhaf_monte_carlo(given, q, strict, n_samples, generator)
        else:
            share, se = _shapley_shubik_monte_carlo(given, q, strict, n_samples, generator)
            raw = share
        seed = f"seed {rng}" if isinstance(rng, int) else "a caller's Generator"
        what = "coalitions" if index == "banzhaf" else "orders"
        result = PowerIndices(
            index=index,
            players=names,
            weights=given,
            game_weights=given.copy(),
            quota=q,
            share=np.asarray(share, dtype=np.float64),
            raw=np.asarray(raw, dtype=np.float64),
            std_error=np.asarray(se, dtype=np.float64),
            method=f"Monte Carlo, {n_samples:,} random {what}, {seed}",
        )
        _warn_if_undefined(result.share)
        return result
    if resolution is None:
        if not np.array_equal(given, np.round(given)):
            fractional = given[given != np.round(given)][:3].tolist()
            raise InputError(
                f"{function}: exact indices need integer weights; got {fractional}. "
                "Give `resolution` (e.g. 0.01: weights rounded to hundredths) or use "
                "method='monte_carlo' for the real weights."
            )
        game = given.astype(np.int64)
        int_quota = majority_quota(game) if quota is None else math.ceil(quota - 1e-9)
    else:
        game = np.round(given / resolution).astype(np.int64)
        if game.sum() <= 0:
            raise InputError(
                f"{function}: `resolution` {resolution:g} rounds every weight to 0; use a "
                "smaller one."
            )
        int_quota = majority_quota(game) if quota is None else math.ceil(quota / resolution - 1e-9)
    total = int(game.sum())
    if total > _MAX_TOTAL_WEIGHT:
        raise InputError(
            f"{function}: the integer total weight is {total:,}, above {_MAX_TOTAL_WEIGHT:,}: "
            "too large to solve exactly. Use a coarser `resolution` or method='monte_carlo'."
        )
    int_quota = min(max(int_quota, 1), total)
    if index == "banzhaf":
        raw = _banzhaf_exact(game, int_quota)
        swings = raw.sum()
        share = raw / swings if swings > 0 else np.full(n, np.nan)
    else:
        width = max(int_quota - 1, total - int_quota) + 1
        steps = n * (n // 2 + 1) * width / 2
        if steps > _MAX_SHAPLEY_STEPS or (n // 2 + 1) * width > _MAX_SHAPLEY_TABLE:
            raise InputError(
                f"{function}: exact Shapley–Shubik for {n:,} players and integer total weight "
                f"{total:,} needs about {steps:.1e} steps over a table of "
                f"{(n // 2 + 1) * width:,} cells (it grows as n^2 W); use "
                "method='monte_carlo' (with standard errors), a coarser `resolution`, or "
                "index='banzhaf'."
            )
        raw = _shapley_shubik_exact(game, int_quota)
        share = raw
    rounded = "" if resolution is None else f", weights rounded to multiples of {resolution:g}"
    result = PowerIndices(
        index=index,
        players=names,
        weights=given,
        game_weights=game.astype(np.float64),
        quota=float(int_quota),
        share=np.asarray(share, dtype=np.float64),
        raw=np.asarray(raw, dtype=np.float64),
        std_error=np.zeros(n),
        method=f"exact (generating function){rounded}",
        resolution=resolution,
    )
    _warn_if_undefined(result.share)
    return result


def _warn_if_undefined(share: np.ndarray) -> None:
    if np.isnan(share).any():
        warnings.warn(
            "power_indices is undefined (NaN): no player is ever a swing in this game.",
            UndefinedMetricWarning,
            stacklevel=3,
        )


def group_power(
    weights: Sequence[float] | np.ndarray,
    groups: Sequence[object] | np.ndarray,
    *,
    attribute: str = "group",
    coalition: Coalition = "bloc",
    index: PowerIndex = "banzhaf",
    method: PowerMethod = "exact",
    resolution: float | None = None,
    quota: float | None = None,
    n_samples: int = 20_000,
    rng: int | np.random.Generator | None = 0,
) -> GroupPower:
    """Decision power of groups of agents, and its concentration.

    Args:
        weights: ``(n_agents,)`` voting weights (ones for a plurality vote).
        groups: ``(n_agents,)`` each agent's group (family, developer, ...); a missing
            value (None, NaN) is its own group, ``"(missing)"``.
        attribute: the name of the grouping, for reports.
        coalition: ``"bloc"`` (default): each group votes as one player with its
            members' total weight, the game of Penrose's and Banzhaf's bloc voting: how
            much a family that answers alike holds; ``"members"``: agents vote on their
            own, a group's power is the sum of its members' indices.
        index, method, resolution, quota, n_samples, rng: as in `power_indices`.

    Returns:
        `GroupPower`, groups in order of decreasing power.

    Example (a family of 3 among 5 equal voters holds every majority):
        >>> p = group_power([1, 1, 1, 1, 1], ["a", "a", "a", "b", "c"], attribute="family")
        >>> p.top, p.hhi
        (('a', 1.0), 1.0)
    """
    given = _check_weights(weights, "group_power")
    labels = _group_labels(groups, given.shape[0])
    if coalition not in ("bloc", "members"):
        raise InputError(
            f"group_power: `coalition` must be 'bloc' or 'members'; got {coalition!r}."
        )
    names, inverse = np.unique(labels, return_inverse=True)
    n_agents = np.bincount(inverse, minlength=names.shape[0])
    totals = np.bincount(inverse, weights=given, minlength=names.shape[0])
    options = dict(
        quota=quota, index=index, method=method, resolution=resolution, n_samples=n_samples, rng=rng
    )
    if coalition == "bloc":
        power = power_indices(totals, players=[str(g) for g in names], **options)  # type: ignore[arg-type]
        share = power.share
        se = power.std_error
    else:
        power = power_indices(given, **options)  # type: ignore[arg-type]
        share = np.bincount(inverse, weights=power.share, minlength=names.shape[0])
        # members' estimates share draws, so their errors are not independent; the sum of
        # standard errors bounds the group's
        se = np.bincount(inverse, weights=power.std_error, minlength=names.shape[0])
    order = np.lexsort((names.astype(str), -np.nan_to_num(share, nan=-1.0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        hhi = herfindahl_hirschman(share) if np.isfinite(share).all() else float("nan")
    return GroupPower(
        attribute=attribute,
        coalition=coalition,
        groups=tuple(str(g) for g in names[order]),
        n_agents=n_agents[order],
        weight_share=(totals / totals.sum())[order],
        power=power,
        share=np.asarray(share[order], dtype=np.float64),
        std_error=np.asarray(se[order], dtype=np.float64),
        hhi=hhi,
        effective_groups=1.0 / hhi if hhi > 0 else float("nan"),
    )


MISSING_GROUP = "(missing)"


def _group_labels(groups: Sequence[object] | np.ndarray, n: int) -> np.ndarray:
    values = list(groups)
    if len(values) != n:
        raise InputError(
            f"group_power: `groups` must give one group per agent ({n}); got {len(values)}."
        )
    return np.asarray([MISSING_GROUP if pd.isna(v) else str(v) for v in values], dtype=object)
