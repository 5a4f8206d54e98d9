"""The SQLite log: roots and proofs against RFC 9162's recursive definitions, appends in any
batching, and tampering with the stored log: every edit, deletion, insertion, swap and
truncation detected and located; an intact log always verifies; a tampered proof never does."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monoculture.errors import InputError
from monoculture.ledger import (
    ConsistencyProof,
    InclusionProof,
    ProofError,
    SigningKey,
    TransparencyLog,
    canonical_json,
    open_checkpoint,
    sign_checkpoint,
)
from tests.ledger.reference import ref_leaf, ref_mth, ref_path, ref_subproof

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _records(n: int, tag: str = "") -> list[dict[str, object]]:
    # Distinct records, so that a swap or a moved record always changes the log.
    return [
        {"i": i, "agent": f"agent-{i % 3}", "answer": f"{tag}{i}", "p": i / 7} for i in range(n)
    ]


def _make(path: Path, records: list[dict[str, object]]) -> list[bytes]:
    with TransparencyLog.open(path, create=True) as log:
        log.append_many(records)
    return [canonical_json(r) for r in records]


def _rewrite_records(path: Path, bodies: list[tuple[int, str]]) -> None:
    """What an editor of the SQLite file does: replace the records table's rows, leaving
    the stored hashes and head as they are."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("DELETE FROM tlog_records")
        connection.executemany("INSERT INTO tlog_records VALUES (?, ?)", bodies)
        connection.commit()


def test_roots_and_proofs_match_the_rfc_definitions(tmp_path: Path) -> None:
    # Catches a stored node under the wrong id (then roots of old sizes, or proofs, read the
    # wrong subtree) and proofs in the wrong order: every size, index and old size up to 21.
    records = _records(21)
    bodies = _make(tmp_path / "log.sqlite", records)
    with TransparencyLog.open(tmp_path / "log.sqlite") as log:
        for n in range(22):
            assert log.root(n) == ref_mth(bodies[:n]), n
        for n in range(1, 22):
            for m in range(n):
                proof = log.prove_inclusion(m, size=n)
                assert proof.leaf_hash == ref_leaf(bodies[m])
                assert list(proof.path) == ref_path(m, bodies[:n])
                proof.verify()
            for m in range(1, n + 1):
                consistency = log.prove_consistency(m, size=n)
                expected = ref_subproof(m, bodies[:n], True) if m < n else []
                assert list(consistency.path) == expected
                consistency.verify()


@FAST
@given(st.lists(st.integers(1, 9), min_size=1, max_size=8))
def test_batching_does_not_change_the_log(tmp_path_factory: pytest.TempPathFactory,
                                          batches: list[int]) -> None:  # fmt: skip
    # Catches a frontier (the right edge of the tree kept in memory) that is wrong after a
    # batch boundary or after reopening the file: batches of any sizes, reopened between.
    path = tmp_path_factory.mktemp("log") / "log.sqlite"
    records = _records(sum(batches))
    start = 0
    for size in batches:
        with TransparencyLog.open(path, create=True) as log:
            assert log.append_many(records[start : start + size]) == range(start, start + size)
        start += size
    with TransparencyLog.open(path) as log:
        assert log.root() == ref_mth([canonical_json(r) for r in records])
        assert log.verify().ok


def test_a_second_handle_sees_appends_of_the_first(tmp_path: Path) -> None:
    # Catches a writer that trusts its in-memory frontier after another handle appended
    # (two runs sharing a ledger file): it would write a tree that is not RFC 9162's.
    path = tmp_path / "log.sqlite"
    first = TransparencyLog.open(path, create=True)
    second = TransparencyLog.open(path)
    first.append_many(_records(3))
    second.append_many(_records(4, "x"))
    first.append({"last": True})
    bodies = [canonical_json(r) for r in [*_records(3), *_records(4, "x"), {"last": True}]]
    assert second.root() == first.root() == ref_mth(bodies)
    assert second.verify().ok
    first.close()
    second.close()


def test_a_rolled_back_append_leaves_no_trace(tmp_path: Path) -> None:
    # Catches in-memory state kept from an append the caller's transaction rolled back.
    with TransparencyLog.open(tmp_path / "log.sqlite", create=True) as log:
        log.append_many(_records(2))
        log.connection.execute("BEGIN")
        log.append_many(_records(5, "gone"))
        log.connection.execute("ROLLBACK")
        log.append({"after": 1})
        bodies = [canonical_json(r) for r in [*_records(2), {"after": 1}]]
        assert log.root() == ref_mth(bodies)
        assert log.verify().ok


def test_an_intact_log_verifies_and_is_named_by_its_root(tmp_path: Path) -> None:
    # Catches verify reporting a good log as bad, or another root than the RFC's.
    bodies = _make(tmp_path / "log.sqlite", _records(13))
    with TransparencyLog.open(tmp_path / "log.sqlite") as log:
        result = log.verify()
    assert (result.ok, result.size, result.root, result.first_bad) == (
        True, 13, ref_mth(bodies), None
    )  # fmt: skip


TAMPERS = ["edit", "delete", "delete-gap", "insert", "swap", "truncate", "append"]


@FAST
@given(
    n=st.integers(1, 40),
    tamper=st.sampled_from(TAMPERS),
    data=st.data(),
)
def test_every_tampering_is_detected_and_located(
    tmp_path_factory: pytest.TempPathFactory, n: int, tamper: str, data: st.DataObject
) -> None:
    # Catches a verify that checks only the root (it could not name the record), checks
    # only some records (an edit past them passes), ignores gaps in the numbering (a
    # deletion passes), or counts records against nothing (a truncation passes); each
    # tampering is checked with and without a checkpoint.
    path = tmp_path_factory.mktemp("log") / "log.sqlite"
    key = SigningKey.generate("test/log")
    bodies = [b.decode() for b in _make(path, _records(n))]
    with TransparencyLog.open(path) as log:
        note = sign_checkpoint(log.checkpoint("test/log"), key)
    rows = list(enumerate(bodies))
    i = data.draw(st.integers(0, n - 1), label="i")
    if tamper == "edit":
        rows[i] = (i, bodies[i].replace('"answer":"', '"answer":"edited ', 1))
        expected = i
    elif tamper == "delete":  # renumbered, as if the record had never been
        rows = [(k, body) for k, body in enumerate(bodies[:i] + bodies[i + 1 :])]
        expected = i
    elif tamper == "delete-gap":
        del rows[i]
        expected = i
    elif tamper == "insert":
        new = [*bodies[:i], '{"forged":true}', *bodies[i:]]
        rows = list(enumerate(new))
        expected = i
    elif tamper == "swap":
        if n < 2:
            return
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i), label="j")
        rows[i], rows[j] = (i, bodies[j]), (j, bodies[i])
        expected = min(i, j)
    elif tamper == "truncate":
        rows = rows[:i]
        expected = i
    else:  # appended behind the log's back
        rows.append((n, '{"forged":true}'))
        expected = n
    _rewrite_records(path, rows)
    with TransparencyLog.open(path) as log:
        plain = log.verify()
        checked = log.verify(checkpoint=open_checkpoint(note, key.verifier()))
    for result in (plain, checked):
        assert not result.ok
        assert result.first_bad == expected, result.problem


def _rebuild(path: Path, bodies: list[bytes]) -> None:
    """The stronger attacker: rebuilds the whole log (hashes and head) from edited records."""
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    import json

    _make(path, [json.loads(b) for b in bodies])


def test_a_rebuilt_log_is_caught_only_by_the_checkpoint(tmp_path: Path) -> None:
    # Catches a verify that ignores the checkpoint's root: a log rebuilt from an edited
    # record is self-consistent, so only the signed root shows it (not where: see the docs).
    path = tmp_path / "log.sqlite"
    key = SigningKey.generate("test/log")
    bodies = _make(path, _records(9))
    with TransparencyLog.open(path) as log:
        checkpoint = open_checkpoint(sign_checkpoint(log.checkpoint("l"), key), key.verifier())
    bodies[4] = bodies[4].replace(b'"answer":"', b'"answer":"x', 1)
    _rebuild(path, bodies)
    with TransparencyLog.open(path) as log:
        assert log.verify().ok  # undetectable without a checkpoint
        result = log.verify(checkpoint=checkpoint)
    assert not result.ok
    assert result.first_bad is None
    assert "rewritten" in (result.problem or "")


def test_a_rebuilt_truncated_log_is_caught_and_located_by_the_checkpoint(
    tmp_path: Path,
) -> None:
    # Catches a checkpoint size not compared with the log's: the whole log cut to 6 records
    # (hashes and head too) is self-consistent, but the checkpoint was signed at 9.
    path = tmp_path / "log.sqlite"
    key = SigningKey.generate("test/log")
    bodies = _make(path, _records(9))
    with TransparencyLog.open(path) as log:
        checkpoint = open_checkpoint(sign_checkpoint(log.checkpoint("l"), key), key.verifier())
    _rebuild(path, bodies[:6])
    with TransparencyLog.open(path) as log:
        assert log.verify().ok
        result = log.verify(checkpoint=checkpoint)
    assert (result.ok, result.first_bad) == (False, 6)
    assert "truncated" in (result.problem or "")


def test_a_log_that_grew_after_its_checkpoint_still_verifies(tmp_path: Path) -> None:
    # Catches a checkpoint compared with the whole log instead of its first `size` records.
    path = tmp_path / "log.sqlite"
    key = SigningKey.generate("test/log")
    _make(path, _records(5))
    with TransparencyLog.open(path) as log:
        checkpoint = open_checkpoint(sign_checkpoint(log.checkpoint("l"), key), key.verifier())
        log.append_many(_records(4, "later"))
        result = log.verify(checkpoint=checkpoint)
    assert (result.ok, result.size, result.checkpoint_size) == (True, 9, 5)


def test_an_altered_stored_hash_is_found(tmp_path: Path) -> None:
    # Catches interior hashes that are stored but never checked (proofs would then serve
    # forged siblings).
    path = tmp_path / "log.sqlite"
    _make(path, _records(8))
    with closing(sqlite3.connect(path)) as connection:
        # The subtree of records 4..7 (level 2): id = (last leaf 7 << 6) | 2.
        connection.execute("UPDATE tlog_nodes SET hash = zeroblob(32) WHERE id = ?", (7 << 6 | 2,))
        connection.commit()
    with TransparencyLog.open(path) as log:
        result = log.verify()
    assert (result.ok, result.first_bad) == (False, 4)
    assert "records 4..7" in (result.problem or "")


def _flip(value: bytes, bit: int) -> bytes:
    index = bit % (8 * len(value))
    return (
        value[: index // 8]
        + bytes([value[index // 8] ^ (1 << index % 8)])
        + value[index // 8 + 1 :]
    )


@FAST
@given(n=st.integers(1, 40), data=st.data())
def test_a_tampered_proof_never_verifies(
    tmp_path_factory: pytest.TempPathFactory, n: int, data: st.DataObject
) -> None:
    # Catches a verifier that skips a hash, accepts extra or missing path elements, or does
    # not bind the record's position: any one change to a valid proof must be refused.
    path = tmp_path_factory.mktemp("log") / "log.sqlite"
    _make(path, _records(n))
    with TransparencyLog.open(path) as log:
        m = data.draw(st.integers(0, n - 1), label="index")
        proof = log.prove_inclusion(m)
        old = data.draw(st.integers(1, n), label="old size")
        consistency = log.prove_consistency(old)
    proof.verify()
    consistency.verify()
    bit = data.draw(st.integers(0, 255), label="bit")
    inclusion_tampers: list[InclusionProof] = [
        InclusionProof(m, n, _flip(proof.leaf_hash, bit), proof.root, proof.path),
        InclusionProof(m, n, proof.leaf_hash, _flip(proof.root, bit), proof.path),
        InclusionProof(m, n, proof.leaf_hash, proof.root, (*proof.path, proof.root)),
    ]
    if proof.path:
        k = data.draw(st.integers(0, len(proof.path) - 1), label="element")
        changed = list(proof.path)
        changed[k] = _flip(changed[k], bit)
        inclusion_tampers += [
            InclusionProof(m, n, proof.leaf_hash, proof.root, tuple(changed)),
            InclusionProof(m, n, proof.leaf_hash, proof.root, proof.path[:-1]),
        ]
    if n > 1:
        other = data.draw(st.integers(0, n - 1).filter(lambda j: j != m), label="other")
        inclusion_tampers.append(InclusionProof(other, n, proof.leaf_hash, proof.root, proof.path))
    for tampered in inclusion_tampers:
        with pytest.raises(ProofError):
            tampered.verify()
    c = consistency
    consistency_tampers = [
        ConsistencyProof(c.old_size, c.size, _flip(c.old_root, bit), c.root, c.path),
        ConsistencyProof(c.old_size, c.size, c.old_root, _flip(c.root, bit), c.path),
        ConsistencyProof(c.old_size, c.size, c.old_root, c.root, (*c.path, c.root)),
    ]
    if c.path:
        k = data.draw(st.integers(0, len(c.path) - 1), label="c element")
        changed = list(c.path)
        changed[k] = _flip(changed[k], bit)
        consistency_tampers += [
            ConsistencyProof(c.old_size, c.size, c.old_root, c.root, tuple(changed)),
            ConsistencyProof(c.old_size, c.size, c.old_root, c.root, c.path[:-1]),
        ]
    for tampered_consistency in consistency_tampers:
        with pytest.raises(ProofError):
            tampered_consistency.verify()


def test_bad_arguments_are_input_errors(tmp_path: Path) -> None:
    # Catches an IndexError or a wrong proof for a record or size that does not exist.
    path = tmp_path / "log.sqlite"
    _make(path, _records(3))
    with TransparencyLog.open(path) as log:
        with pytest.raises(InputError, match="holds records 0 to 2"):
            log.prove_inclusion(3)
        with pytest.raises(InputError, match="--from 4"):
            log.prove_consistency(4)
        with pytest.raises(InputError, match="holds 3 records"):
            log.root(5)
    with pytest.raises(InputError, match="no such file"):
        TransparencyLog.open(tmp_path / "absent.sqlite")
    (tmp_path / "text.sqlite").write_text("hello " * 200)
    with pytest.raises(InputError, match="not a monoculture transparency log"):
        TransparencyLog.open(tmp_path / "text.sqlite")
