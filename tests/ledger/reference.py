"""Shared pieces of the ledger tests: the reference hashing, written here from RFC 9162's
definitions with hashlib alone (never from the package under test), and the vector folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "merkle-vectors"

requires_vectors = pytest.mark.skipif(
    not (VECTORS / "testdata").is_dir(),
    reason="../shared/data/merkle-vectors is absent (a clone without the shared data folder)",
)


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_split(n: int) -> int:
    """k: the largest power of two strictly below n, by counting up (not bit tricks)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) by RFC 9162 2.1.1's recursive definition, on the records themselves."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return ref_leaf(leaves[0])
    k = ref_split(len(leaves))
    return ref_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = ref_split(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_mth(leaves)]
    k = ref_split(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], complete), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]
