"""Agents split into fixed chunks, each with its own random stream, updated in threads.

Chunk boundaries depend only on the number of agents, never on the number of cores, so a
seeded run is bit-for-bit the same on any machine. numpy releases the GIL inside its random
generators and element-wise kernels, so two threads use two cores.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

CHUNK = 1 << 17  # agents per chunk (131,072): large enough to amortise the thread hand-off

T = TypeVar("T")


def chunk_slices(n_agents: int, *, min_chunks: int = 1) -> list[slice]:
    """Contiguous chunks of at most `CHUNK` agents, at least ``min_chunks`` of them; the
    split depends only on the arguments, never on the machine."""
    count = max(min_chunks, -(-n_agents // CHUNK))
    bounds = np.linspace(0, n_agents, count + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def chunk_generators(seed: np.random.SeedSequence, n_chunks: int) -> list[np.random.Generator]:
    return [np.random.default_rng(child) for child in seed.spawn(n_chunks)]


@contextmanager
def chunk_runner(n_chunks: int) -> Iterator[Callable[[Callable[[int], T]], list[T]]]:
    """``run(function)`` calls ``function(k)`` for every chunk k, in threads when useful."""
    workers = min(n_chunks, os.cpu_count() or 1)
    if workers <= 1:
        yield lambda function: [function(k) for k in range(n_chunks)]
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:

        def run(function: Callable[[int], Any]) -> list[Any]:
            return list(pool.map(function, range(n_chunks)))

        yield run
