"""Merkle tree hashing and proofs as RFC 9162 section 2.1 defines them.

Hashing (2.1.1): SHA-256; the empty tree hashes to SHA-256(""); a leaf to
SHA-256(0x00 || record); an interior node to SHA-256(0x01 || left || right); a tree of n > 1
leaves splits at k, the largest power of two strictly below n.

Proofs are built here as lists of leaf *ranges* ``[start, end)`` whose subtree hashes make up
the proof (2.1.3.1 PATH, 2.1.4.1 PROOF/SUBPROOF); the log turns each range into a hash from
its stored perfect subtrees. Verification follows 2.1.3.2 and 2.1.4.2, with the strictness
of transparency-dev/merkle (every hash 32 bytes; a consistency proof from size 0 only between
two empty trees; equal sizes only with an empty proof and equal roots).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from monoculture.errors import MonocultureError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ProofError",
    "consistency_ranges",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(MonocultureError):
    """A proof that does not verify (wrong root, wrong length, malformed hash); the message
    says which check failed."""


def leaf_hash(record: bytes) -> bytes:
    """SHA-256(0x00 || record).

    >>> leaf_hash(b"").hex()[:16]
    '6e340b9cffb37a98'
    """
    return hashlib.sha256(b"\x00" + record).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right).

    >>> node_hash(leaf_hash(b"a"), leaf_hash(b"b")) == root_from_leaf_hashes(
    ...     [leaf_hash(b"a"), leaf_hash(b"b")])
    True
    """
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaves, streaming (memory O(log n)): a stack of perfect subtrees merged as
    they complete, then folded right to left, which is the RFC's left-balanced tree.

    >>> root_from_leaf_hashes([]).hex()[:16]
    'e3b0c44298fc1c14'
    """
    stack: list[tuple[int, bytes]] = []
    for leaf in leaves:
        level, digest = 0, leaf
        while stack and stack[-1][0] == level:
            digest = node_hash(stack.pop()[1], digest)
            level += 1
        stack.append((level, digest))
    if not stack:
        return EMPTY_ROOT
    digest = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        digest = node_hash(left, digest)
    return digest


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees ``(level, index)`` covering ``[start, end)``, left to
    right; subtree (level, index) holds leaves ``[index << level, (index + 1) << level)``.

    For a range that is a node of the RFC tree (every range a proof names is), MTH of the
    range is these subtrees' hashes folded right to left.

    >>> perfect_subtrees(0, 7)
    [(2, 0), (1, 2), (0, 6)]
    """
    out = []
    while start < end:
        # The largest aligned block at `start` that still fits.
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[size]) (RFC 9162 2.1.3.1), leaf upwards.

    >>> inclusion_ranges(3, 7)
    [(2, 3), (0, 2), (4, 7)]
    """
    if not 0 <= index < size:
        raise ValueError(f"index must be in [0, {size}); got {index}.")
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()  # collected top-down; the proof runs bottom-up
    return out


def consistency_ranges(old_size: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(old_size, D[size]) (RFC 9162 2.1.4.1).

    >>> consistency_ranges(3, 7)
    [(2, 3), (3, 4), (0, 2), (4, 7)]
    """
    if not 0 < old_size <= size:
        raise ValueError(f"old_size must be in (0, {size}]; got {old_size}.")
    out: list[tuple[int, int]] = []
    start, end, m, complete = 0, size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        out.append((start, end))
    out.reverse()
    return out


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes; got {len(value)}.")


def verify_inclusion(
    *, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is record ``index`` of the tree of ``size`` records
    whose root is ``root`` (RFC 9162 2.1.3.2); raise `ProofError` if not.

    >>> a, b = leaf_hash(b"a"), leaf_hash(b"b")
    >>> verify_inclusion(leaf=b, index=1, size=2, proof=[a], root=node_hash(a, b))
    """
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root")
    for i, element in enumerate(proof):
        _check_hash(element, f"proof element {i}")
    if not 0 <= index < size:
        raise ProofError(f"record {index} is not in a tree of {size} records.")
    fn, sn, r = index, size - 1, leaf
    for element in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep.")
        if fn & 1 or fn == sn:
            r = node_hash(element, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep.")
    if r != root:
        raise ProofError("the proof leads to another root.")


def verify_consistency(
    *, old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` records with root ``old_root`` is a prefix of the
    tree of ``size`` records with root ``root`` (RFC 9162 2.1.4.2); raise `ProofError` if not.

    >>> a, b = leaf_hash(b"a"), leaf_hash(b"b")
    >>> verify_consistency(old_size=1, size=2, old_root=a, root=node_hash(a, b), proof=[b])
    """
    for i, element in enumerate(proof):
        _check_hash(element, f"proof element {i}")
    if not 0 <= old_size <= size:
        raise ProofError(f"the old size {old_size} must be in [0, {size}] (the new size).")
    if old_size == size:
        if proof:
            raise ProofError("two trees of the same size need an empty proof.")
        if old_root != root:
            raise ProofError("two trees of the same size have different roots.")
        if size == 0 and root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree must be SHA-256 of nothing.")
        return  # equal roots of any length, as transparency-dev/merkle accepts
    _check_hash(old_root, "the old root")
    _check_hash(root, "the root")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing; not accepted.")
    if not proof:
        raise ProofError("the proof is empty.")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: its root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep.")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(element, fr), node_hash(element, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep.")
    if fr != old_root:
        raise ProofError("the proof leads to another old root.")
    if sr != root:
        raise ProofError("the proof leads to another root.")
