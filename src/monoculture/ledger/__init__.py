"""A transparency log of a swarm's decisions and calls: an append-only Merkle tree log
(RFC 9162 section 2.1 hashing, inclusion and consistency proofs) of records in RFC 8785
canonical JSON, stored in SQLite, with signed checkpoints in the C2SP signed-note /
tlog-checkpoint format (Ed25519).

Errors: bad input raises `monoculture.errors.InputError`; a proof, signature or log that
does not verify raises `ProofError` (a `monoculture.errors.MonocultureError`), and
`TransparencyLog.verify` returns a `Verification` naming the first bad record.

>>> from monoculture.ledger import TransparencyLog, SigningKey, sign_checkpoint, open_checkpoint
>>> key = SigningKey.from_seed("example.org/log", bytes(32))
>>> with TransparencyLog.open(":memory:", create=True) as log:
...     _ = log.append_many([{"agent": "a", "answer": "B"}, {"agent": "b", "answer": "B"}])
...     note = sign_checkpoint(log.checkpoint("example.org/log"), key)
...     log.verify(checkpoint=open_checkpoint(note, key.verifier())).ok
True
"""

from monoculture.ledger._canonical import canonical_json, es_number
from monoculture.ledger._checkpoint import (
    Checkpoint,
    SigningKey,
    VerifierKey,
    load_signing_key,
    load_verifier_key,
    open_checkpoint,
    sign_checkpoint,
    write_key_pair,
)
from monoculture.ledger._log import (
    FORMAT,
    ConsistencyProof,
    InclusionProof,
    TransparencyLog,
    Verification,
)
from monoculture.ledger._merkle import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "FORMAT",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "ProofError",
    "SigningKey",
    "TransparencyLog",
    "Verification",
    "VerifierKey",
    "canonical_json",
    "es_number",
    "leaf_hash",
    "load_signing_key",
    "load_verifier_key",
    "node_hash",
    "open_checkpoint",
    "root_from_leaf_hashes",
    "sign_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "write_key_pair",
]
