"""BLAS threads matched to idle cores (monoculture/_threads.py).

Catches: one BLAS thread per core kept while another process holds a core (analyze ran
2.6x slower that way), a policy that never uses more than one thread on a quiet machine,
and overriding a thread count the user set in the environment.
"""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info

from monoculture import _threads


def _blas_threads_now() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize(("load", "expected"), [(0.0, 2), (0.9, 1), (1.6, 1), (7.0, 1)])
def test_threads_follow_idle_cores(
    monkeypatch: pytest.MonkeyPatch, load: float, expected: int
) -> None:
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(_threads.os, "getloadavg", lambda: (load, load, load))
    assert _threads.blas_threads() == expected


def test_the_limit_applies_inside_and_is_lifted_after(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_threads.os, "getloadavg", lambda: (50.0, 50.0, 50.0))
    before = _blas_threads_now()
    with _threads.adaptive_blas() as threads:
        assert threads == 1
        assert set(_blas_threads_now()) <= {1}
    assert _blas_threads_now() == before


def test_a_users_thread_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setattr(_threads.os, "getloadavg", lambda: (50.0, 50.0, 50.0))
    with _threads.adaptive_blas() as threads:
        assert threads is None
