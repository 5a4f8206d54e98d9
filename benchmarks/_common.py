"""Timing and memory helpers shared by the benchmarks (not part of the package)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any


def best_time(function: Callable[[], Any], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` runs, in seconds (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
