"""The append-only transparency log, in SQLite.

Three tables, which may share a file with other tables (the experiment ledger does):

- ``tlog_records(idx, record)``: record ``idx`` (0-based, the order of appending) as its
  canonical JSON text (RFC 8785);
- ``tlog_nodes(id, hash)``: the hash of every complete perfect subtree, leaves included. The
  subtree of level l holding leaves [j·2^l, (j+1)·2^l) has id (last leaf << 6) | l, so the
  ids grow in the order the nodes are made: appends go to the end of the B-tree, and
  `TransparencyLog.verify` reads the nodes in one ordered pass;
- ``tlog_head``: one row, the format, size and root after the last append.

A root or proof reads O(log n) stored subtree hashes (one query), never recomputing the
tree; an append computes on average two hashes per record and writes in one transaction.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from monoculture.errors import InputError
from monoculture.ledger._canonical import canonical_json
from monoculture.ledger._checkpoint import Checkpoint
from monoculture.ledger._merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "FORMAT",
    "ConsistencyProof",
    "InclusionProof",
    "TransparencyLog",
    "Verification",
]

FORMAT = "monoculture-tlog/1 rfc9162-sha256 rfc8785"

SCHEMA = """
CREATE TABLE IF NOT EXISTS tlog_records (idx INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tlog_nodes (id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tlog_head (
    one INTEGER PRIMARY KEY CHECK (one = 0), format TEXT NOT NULL, size INTEGER NOT NULL,
    root BLOB NOT NULL
);
"""


def _node_id(level: int, index: int) -> int:
    return ((((index + 1) << level) - 1) << 6) | level


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Perfect subtrees (left to right) folded right to left: the RFC's left-balanced tree."""
    if not hashes:
        return EMPTY_ROOT
    digest = hashes[-1]
    for left in reversed(hashes[:-1]):
        digest = node_hash(left, digest)
    return digest


@dataclass(frozen=True)
class InclusionProof:
    """Record ``index`` is in the tree of ``size`` records with root ``root``: its
    ``leaf_hash`` and the ``path`` of sibling hashes (RFC 9162 2.1.3)."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        """Raise `ProofError` unless the proof holds."""
        verify_inclusion(
            leaf=self.leaf_hash, index=self.index, size=self.size, proof=self.path, root=self.root
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields and base64 encoding of transparency-dev/merkle's test vectors."""
        return {
            "leafIdx": self.index,
            "treeSize": self.size,
            "root": _b64(self.root),
            "leafHash": _b64(self.leaf_hash),
            "proof": [_b64(h) for h in self.path],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old_size`` records (root ``old_root``) is a prefix of the tree of
    ``size`` records (root ``root``) (RFC 9162 2.1.4)."""

    old_size: int
    size: int
    old_root: bytes
    root: bytes
    path: tuple[bytes, ...]

    def verify(self) -> None:
        """Raise `ProofError` unless the proof holds."""
        verify_consistency(
            old_size=self.old_size,
            size=self.size,
            old_root=self.old_root,
            root=self.root,
            proof=self.path,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields and base64 encoding of transparency-dev/merkle's test vectors."""
        return {
            "size1": self.old_size,
            "size2": self.size,
            "root1": _b64(self.old_root),
            "root2": _b64(self.root),
            "proof": [_b64(h) for h in self.path],
        }


@dataclass(frozen=True)
class Verification:
    """What `TransparencyLog.verify` found: ``ok``; the ``size`` and ``root`` recomputed from
    the records; ``first_bad``, the first record found wrong (None when all are right, or
    when the fault is not in one record, e.g. an altered head); ``problem``, in words; and
    ``checkpoint_size``, the size of the checkpoint checked against, if any."""

    ok: bool
    size: int
    root: bytes
    first_bad: int | None = None
    problem: str | None = None
    checkpoint_size: int | None = None


class _Failed(Exception):
    def __init__(self, first_bad: int | None, problem: str) -> None:
        self.first_bad, self.problem = first_bad, problem


class TransparencyLog:
    """An append-only Merkle tree log of JSON records (RFC 9162 hashing, RFC 8785 records).

    Open one with `TransparencyLog.open` (a file of its own) or on a connection shared with
    other tables; a log is single-writer, but notices appends made through another handle.

    >>> with TransparencyLog.open(":memory:", create=True) as log:
    ...     log.append_many([{"decision": "A"}, {"decision": "B"}])
    ...     proof = log.prove_inclusion(1)
    ...     proof.verify()
    ...     log.record(1)
    range(0, 2)
    b'{"decision":"B"}'
    """

    def __init__(
        self, connection: sqlite3.Connection, *, create: bool = False, source: str = "the log"
    ) -> None:
        self.connection = connection
        self.source = source
        self._owned = False
        try:
            tables = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if create and not {"tlog_records", "tlog_nodes", "tlog_head"} <= tables:
                in_transaction = connection.in_transaction
                if not in_transaction:
                    connection.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(
                    "INSERT OR IGNORE INTO tlog_head VALUES (0, ?, 0, ?)", (FORMAT, EMPTY_ROOT)
                )
                if not in_transaction:
                    connection.execute("COMMIT")
            head = self._head()
        except sqlite3.DatabaseError as error:
            raise InputError(
                f"{source}: not a monoculture transparency log ({error}); give the "
                "ledger.sqlite a run wrote, or a log made with TransparencyLog.open."
            ) from None
        self._size, self._root = head
        self._frontier = self._load_frontier(self._size)

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, read_only: bool = False) -> Self:
        """The log in the SQLite file ``path`` (``create`` makes the file and tables; WAL
        mode, so a killed writer loses nothing committed and readers never block it)."""
        source = str(path)
        if str(path) != ":memory:":
            path = Path(path)
            if not create and not path.is_file():
                raise InputError(
                    f"{path}: no such file; give the ledger.sqlite a run wrote (under its -o "
                    "folder)."
                )
        try:
            if read_only:
                connection = sqlite3.connect(
                    f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
                )
            else:
                connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise InputError(
                f"{source}: not a monoculture transparency log ({error}); give the "
                "ledger.sqlite a run wrote."
            ) from None
        try:
            log = cls(connection, create=create, source=source)
            if not read_only:  # only once it is known to be a log: WAL changes the file
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            connection.close()
            raise
        log._owned = True
        return log

    def close(self) -> None:
        """Close the connection if this log opened it."""
        if self._owned:
            self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------------

    def _head(self) -> tuple[int, bytes]:
        row = self.connection.execute("SELECT format, size, root FROM tlog_head").fetchone()
        if row is None:
            raise sqlite3.DatabaseError("its head row is missing")
        if row[0] != FORMAT:
            raise InputError(
                f"{self.source}: log format {row[0]!r}; this release reads {FORMAT!r}."
            )
        return int(row[1]), bytes(row[2])

    def _hashes(self, ids: Iterable[int]) -> dict[int, bytes]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, bytes] = {}
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(
                self.connection.execute(
                    f"SELECT id, hash FROM tlog_nodes WHERE id IN ({marks})", batch
                ).fetchall()
            )
        missing = [i for i in wanted if i not in found]
        if missing:
            level, last = missing[0] & 63, missing[0] >> 6
            raise ProofError(
                f"{self.source}: the stored hash of records {last - (1 << level) + 1}..{last} "
                "is missing: the log is damaged; run `monoculture ledger verify` on it."
            )
        return found

    def _range_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """MTH of each range, from stored perfect subtrees (one query for all)."""
        parts = [[_node_id(*s) for s in perfect_subtrees(a, b)] for a, b in ranges]
        stored = self._hashes(i for ids in parts for i in ids)
        return [_fold([stored[i] for i in ids]) for ids in parts]

    def _load_frontier(self, size: int) -> list[tuple[int, bytes]]:
        subtrees = perfect_subtrees(0, size)
        stored = self._hashes(_node_id(*s) for s in subtrees)
        return [(level, stored[_node_id(level, index)]) for level, index in subtrees]

    @property
    def size(self) -> int:
        """The number of records (as the head says, read afresh)."""
        return self._head()[0]

    def _check_size(self, size: int | None, what: str) -> int:
        current = self.size
        if size is None:
            return current
        if not 0 <= size <= current:
            raise InputError(
                f"{what} {size}: the log {self.source} holds {current} records; give a size "
                f"from 0 to {current}."
            )
        return size

    def root(self, size: int | None = None) -> bytes:
        """The RFC 9162 root of the first ``size`` records (default: all)."""
        size = self._check_size(size, "size")
        return self._range_hashes([(0, size)])[0] if size else EMPTY_ROOT

    def record(self, index: int) -> bytes:
        """Record ``index`` as its canonical JSON bytes."""
        current = self.size
        if not 0 <= index < current:
            raise InputError(
                f"record {index}: the log {self.source} holds {current} records, numbered 0 "
                f"to {current - 1}; give an index in that range."
                if current
                else f"record {index}: the log {self.source} is empty."
            )
        row = self.connection.execute(
            "SELECT record FROM tlog_records WHERE idx = ?", (index,)
        ).fetchone()
        if row is None:
            raise ProofError(
                f"{self.source}: record {index} is missing: the log is damaged; run "
                "`monoculture ledger verify` on it."
            )
        return _bytes(row[0])

    def records(self) -> Iterator[tuple[int, bytes]]:
        """Every stored ``(index, record)`` in index order, as stored (unchecked)."""
        for index, record in self.connection.execute(
            "SELECT idx, record FROM tlog_records ORDER BY idx"
        ):
            yield int(index), _bytes(record)

    def checkpoint(self, origin: str) -> Checkpoint:
        """The current tree head, to sign with `sign_checkpoint`."""
        size, root = self._head()
        return Checkpoint(origin, size, root)

    # --- proofs -------------------------------------------------------------------------

    def prove_inclusion(self, index: int, *, size: int | None = None) -> InclusionProof:
        """Proof that record ``index`` is in the tree of the first ``size`` records (default:
        all); the leaf hash is recomputed from the stored record."""
        given = size is not None
        size = self._check_size(size, "--size")
        if not 0 <= index < size:
            raise InputError(
                f"record {index}: the tree of {size} records holds records 0 to {size - 1}; "
                f"give an index in that range{' (or a larger --size)' if given else ''}."
                if size
                else f"record {index}: the tree of {self.source} is empty."
            )
        ranges = inclusion_ranges(index, size)
        hashes = self._range_hashes([*ranges, (0, size)])
        return InclusionProof(
            index, size, leaf_hash(self.record(index)), hashes[-1], tuple(hashes[:-1])
        )

    def prove_consistency(self, old_size: int, *, size: int | None = None) -> ConsistencyProof:
        """Proof that the first ``old_size`` records are a prefix of the first ``size``."""
        size = self._check_size(size, "--size")
        if not 0 < old_size <= size:
            raise InputError(
                f"--from {old_size}: must be from 1 to the tree size {size} (a consistency "
                "proof compares a non-empty earlier tree with a later one)."
            )
        ranges = consistency_ranges(old_size, size) if old_size < size else []
        hashes = self._range_hashes([*ranges, (0, old_size), (0, size)])
        return ConsistencyProof(old_size, size, hashes[-2], hashes[-1], tuple(hashes[:-2]))

    # --- appending ----------------------------------------------------------------------

    def append(self, record: Any) -> int:
        """Append one JSON record; its index."""
        return self.append_many([record]).start

    def append_many(self, records: Iterable[Any]) -> range:
        """Append records in one transaction (or inside the caller's open transaction, which
        the caller commits); the range of their indices."""
        bodies = [canonical_json(record) for record in records]
        connection = self.connection
        own = not connection.in_transaction
        if own:
            connection.execute("BEGIN IMMEDIATE")
        try:
            head = self._head()
            if head != (self._size, self._root):  # another handle appended (or rolled back)
                self._size, self._root = head
                self._frontier = self._load_frontier(head[0])
            first = self._size
            stack = list(self._frontier)
            nodes: list[tuple[int, bytes]] = []
            for offset, body in enumerate(bodies):
                index = first + offset
                digest = leaf_hash(body)
                nodes.append((index << 6, digest))
                level = 0
                while stack and stack[-1][0] == level:
                    digest = node_hash(stack.pop()[1], digest)
                    level += 1
                    nodes.append(((index << 6) | level, digest))
                stack.append((level, digest))
            root = _fold([h for _, h in stack])
            size = first + len(bodies)
            connection.executemany(
                "INSERT INTO tlog_records VALUES (?, ?)",
                [(first + i, body.decode()) for i, body in enumerate(bodies)],
            )
            connection.executemany("INSERT INTO tlog_nodes VALUES (?, ?)", nodes)
            connection.execute("UPDATE tlog_head SET size = ?, root = ?", (size, root))
            if own:
                connection.execute("COMMIT")
        except BaseException:
            if own and connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        self._size, self._root, self._frontier = size, root, stack
        return range(first, size)

    # --- verifying ----------------------------------------------------------------------

    def verify(self, *, checkpoint: Checkpoint | None = None) -> Verification:
        """Recompute every hash from the records and compare with what is stored (and with
        ``checkpoint``, whose signature the caller has checked with `open_checkpoint`).

        Names the first bad record for an edit, deletion, insertion, reordering or
        truncation of the records; see docs/ledger.md for what needs a checkpoint.
        """
        head_size, head_root = self._head()
        stack: list[tuple[int, bytes]] = []
        checkpoint_root = EMPTY_ROOT if checkpoint is not None and checkpoint.size == 0 else None
        expected = 0
        nodes = self.connection.cursor().execute("SELECT id, hash FROM tlog_nodes ORDER BY id")
        try:
            for index, stored in self.connection.execute(
                "SELECT idx, record FROM tlog_records ORDER BY idx"
            ):
                if index != expected:
                    raise _Failed(
                        expected,
                        f"record {expected} is missing (deleted); the next stored record is "
                        f"numbered {index}.",
                    )
                if index >= head_size:
                    raise _Failed(
                        index,
                        f"record {index} is beyond the log's head ({head_size} records): "
                        "inserted without going through the log.",
                    )
                if not isinstance(stored, str | bytes):
                    raise _Failed(index, f"record {index} is not text: edited.")
                digest = leaf_hash(_bytes(stored))
                made = [(index << 6, digest)]
                level = 0
                while stack and stack[-1][0] == level:
                    digest = node_hash(stack.pop()[1], digest)
                    level += 1
                    made.append(((index << 6) | level, digest))
                stack.append((level, digest))
                for node_id, digest in made:
                    row = nodes.fetchone()
                    if row is None or row[0] != node_id or row[1] != digest:
                        level = node_id & 63
                        if level == 0:
                            raise _Failed(
                                index,
                                f"record {index} does not match its stored hash: edited, or "
                                "moved by a deletion, insertion or reordering.",
                            )
                        start = index - (1 << level) + 1
                        raise _Failed(
                            start,
                            f"the stored hash of records {start}..{index} does not match "
                            "them: the hash was altered.",
                        )
                expected += 1
                if checkpoint is not None and expected == checkpoint.size:
                    checkpoint_root = _fold([h for _, h in stack])
            if expected < head_size:
                raise _Failed(
                    expected,
                    f"records {expected} to {head_size - 1} are missing: the log was truncated "
                    f"(its head says {head_size} records).",
                )
            if nodes.fetchone() is not None:
                raise _Failed(expected, "hashes are stored beyond the last record: truncated.")
            root = _fold([h for _, h in stack])
            if root != head_root:
                raise _Failed(None, "the head's root does not match the records: altered.")
            if checkpoint is not None:
                if checkpoint.size > expected:
                    raise _Failed(
                        expected,
                        f"the checkpoint was signed at {checkpoint.size} records, the log "
                        f"holds {expected}: records {expected} to {checkpoint.size - 1} are "
                        "missing (truncated).",
                    )
                if checkpoint_root != checkpoint.root:
                    raise _Failed(
                        None,
                        f"the first {checkpoint.size} records do not match the checkpoint: "
                        "they were rewritten, stored hashes and all, after it was signed.",
                    )
        except _Failed as failed:
            return Verification(
                False,
                expected,
                _fold([h for _, h in stack]),
                failed.first_bad,
                failed.problem,
                None if checkpoint is None else checkpoint.size,
            )
        finally:
            nodes.close()
        return Verification(
            True, expected, root, None, None, None if checkpoint is None else checkpoint.size
        )


def _bytes(record: str | bytes) -> bytes:
    return record.encode("utf-8", "surrogatepass") if isinstance(record, str) else bytes(record)
