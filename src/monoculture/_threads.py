"""How many BLAS threads to use, given what else the machine is doing.

OpenBLAS threads spin while they wait for work. When another process keeps a core busy,
a BLAS thread per core fights it for that core and every product waits for the slowest
thread: `analyze` on MMLU-Pro took 12.9 s next to one CPU-bound process on 2 cores with
2 BLAS threads, 4.9 s with 1 (3.4 s and 3.7 s on a quiet machine). So products run with
as many threads as there are idle cores (at least 1), judged from the load average,
unless the user set a thread count in the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

_USER_SETTINGS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def blas_threads() -> int:
    """Idle cores by the 1-minute load average, between 1 and `usable_cores`.

    Example:
        >>> 1 <= blas_threads() <= usable_cores()
        True
    """
    cores = usable_cores()
    try:
        busy = os.getloadavg()[0]
    except OSError:  # no load average on this platform
        return cores
    return max(1, min(cores, math.floor(cores - busy + 0.5)))


@contextmanager
def adaptive_blas() -> Iterator[int | None]:
    """Limit BLAS threads to `blas_threads` inside the block; a user's own setting wins."""
    if any(os.environ.get(name) for name in _USER_SETTINGS):
        yield None
        return
    threads = blas_threads()
    with threadpool_limits(limits=threads, user_api="blas"):
        yield threads
