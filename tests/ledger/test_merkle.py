"""RFC 9162 hashing and proofs: the 196 transparency-dev/merkle vectors, the RFC 6962
reference tree, and proofs checked against the RFC's recursive definitions (tests/ledger/
reference.py, hashlib only)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from monoculture.ledger import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from monoculture.ledger._merkle import consistency_ranges, inclusion_ranges, perfect_subtrees
from tests.ledger.reference import (
    VECTORS,
    ref_leaf,
    ref_mth,
    ref_path,
    ref_subproof,
    requires_vectors,
)


def _vector_files(kind: str) -> list[Path]:
    return sorted((VECTORS / "testdata" / kind).rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


@requires_vectors
def test_all_196_vectors_are_found() -> None:
    # Catches a glob that silently skips a folder (then the parametrised tests prove less).
    assert len(_vector_files("inclusion")) + len(_vector_files("consistency")) == 196


@requires_vectors
@pytest.mark.parametrize(
    "path", _vector_files("inclusion"), ids=lambda p: str(p.relative_to(VECTORS / "testdata"))
)
def test_inclusion_vector(path: Path) -> None:
    # Catches any departure from RFC 9162 2.1.3.2: a wrong shift, left/right swapped, a
    # proof of the wrong length accepted, garbage before or after the proof accepted, a leaf
    # hash that is not 32 bytes accepted.
    v = json.loads(path.read_text())
    arguments = {
        "leaf": _b64(v["leafHash"]),
        "index": v["leafIdx"],
        "size": v["treeSize"],
        "proof": [_b64(p) for p in v["proof"] or []],
        "root": _b64(v["root"]),
    }
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(**arguments)
    else:
        verify_inclusion(**arguments)


@requires_vectors
@pytest.mark.parametrize(
    "path", _vector_files("consistency"), ids=lambda p: str(p.relative_to(VECTORS / "testdata"))
)
def test_consistency_vector(path: Path) -> None:
    # Catches any departure from RFC 9162 2.1.4.2 (the power-of-two prepend, the initial
    # shift, which root each branch updates), and the strictness rules: size 0, equal sizes.
    v = json.loads(path.read_text())
    arguments = {
        "old_size": v["size1"],
        "size": v["size2"],
        "old_root": _b64(v["root1"]),
        "root": _b64(v["root2"]),
        "proof": [_b64(p) for p in v["proof"] or []],
    }
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(**arguments)
    else:
        verify_consistency(**arguments)


# RFC 6962's reference tree (transparency-dev/merkle testonly): 8 leaves, hex.
RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]


def test_known_values_of_the_vectors_readme() -> None:
    # Values from ../shared/data/merkle-vectors/README.md: catches a missing 0x00 / 0x01
    # prefix, another hash, or the empty tree hashed as a leaf.
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    leaves = [leaf_hash(bytes.fromhex(h)) for h in RFC6962_LEAVES]
    assert root_from_leaf_hashes(leaves).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


def test_root_of_a_small_log_matches_the_recursive_definition() -> None:
    # Catches a tree that is not left-balanced (splitting at n/2 instead of the largest power
    # of two below n) or folded in the wrong order: sizes 0..33 cover every shape up to 2^5+1.
    records = [f"record {i}".encode() for i in range(33)]
    for n in range(34):
        expected = ref_mth(records[:n])
        assert root_from_leaf_hashes([ref_leaf(r) for r in records[:n]]) == expected, n


def test_a_five_record_tree_by_hand() -> None:
    # Worked by hand: n=5 splits at k=4; D[0:4] splits at 2; so the root is
    # H(1 || H(1 || H(1||a||b) || H(1||c||d)) || e) with a..e the leaf hashes.
    a, b, c, d, e = (hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(5))
    h = lambda x, y: hashlib.sha256(b"\x01" + x + y).digest()  # noqa: E731
    expected = h(h(h(a, b), h(c, d)), e)
    assert root_from_leaf_hashes([a, b, c, d, e]) == expected
    assert node_hash(a, b) == h(a, b)


def _range_hash(records: list[bytes], start: int, end: int) -> bytes:
    """MTH of a range the way the log computes it: stored perfect subtrees folded."""
    parts = [
        ref_mth(records[index << level : (index + 1) << level])
        for level, index in perfect_subtrees(start, end)
    ]
    digest = parts[-1]
    for left in reversed(parts[:-1]):
        digest = node_hash(left, digest)
    return digest


def test_proof_ranges_give_the_rfc_paths_and_proofs() -> None:
    # Catches a wrong range (off by one at the split), ranges in the wrong order, or a range
    # whose subtree decomposition is not the RFC's subtree: every index and size up to 40.
    records = [bytes([i]) for i in range(40)]
    for n in range(1, 41):
        for m in range(n):
            path = [_range_hash(records, a, b) for a, b in inclusion_ranges(m, n)]
            assert path == ref_path(m, records[:n]), (m, n)
            verify_inclusion(
                leaf=ref_leaf(records[m]), index=m, size=n, proof=path, root=ref_mth(records[:n])
            )
        for m in range(1, n):
            proof = [_range_hash(records, a, b) for a, b in consistency_ranges(m, n)]
            assert proof == ref_subproof(m, records[:n], True), (m, n)
            verify_consistency(
                old_size=m,
                size=n,
                old_root=ref_mth(records[:m]),
                root=ref_mth(records[:n]),
                proof=proof,
            )


def test_out_of_range_arguments_are_refused() -> None:
    # Catches an index equal to the size, or a negative one, producing a proof.
    with pytest.raises(ValueError, match="index"):
        inclusion_ranges(3, 3)
    with pytest.raises(ValueError, match="old_size"):
        consistency_ranges(0, 3)
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(leaf=EMPTY_ROOT, index=-1, size=3, proof=[], root=EMPTY_ROOT)
