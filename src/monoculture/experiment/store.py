"""The cache and the ledger, in SQLite (WAL mode: a killed process loses nothing committed).

Cache: canonical request hash -> response (JSON, never pickle). Ledger: every call and
decision, appended: request (no keys: none are ever put in a request), response, status
(``ok``, ``cached``, ``failed``), error, attempts (the tries actually made; 0 for a call
served from the cache), latency, tokens, time.

Every ledger row is also appended, in the same transaction, to the transparency log in the
ledger's file (`monoculture.ledger.TransparencyLog`, tables ``tlog_*``): a record is the row's
columns as one RFC 8785 JSON object, with request and response as JSON values. With a
signing key (the ``signing_key`` argument, else the environment variable
``MONOCULTURE_LEDGER_KEY`` holding the key text or ``MONOCULTURE_LEDGER_KEY_FILE`` naming its
file), `Store.close` writes a signed checkpoint next to the ledger (``ledger.checkpoint`` for
``ledger.sqlite``). Check it with ``monoculture ledger verify``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from monoculture.errors import InputError
from monoculture.ledger import (
    SigningKey,
    TransparencyLog,
    load_signing_key,
    sign_checkpoint,
)

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "LEDGER_COLUMNS", "Store", "recorded_calls", "request_key"]

# Where a run finds the key that signs its log's checkpoint when none is passed.
KEY_ENV = "MONOCULTURE_LEDGER_KEY"
KEY_FILE_ENV = "MONOCULTURE_LEDGER_KEY_FILE"

LEDGER_COLUMNS = (
    "run",
    "key",
    "agent",
    "item",
    "round",
    "kind",
    "request",
    "response",
    "status",
    "error",
    "attempts",
    "latency",
    "prompt_tokens",
    "completion_tokens",
    "time",
)
_JSON_COLUMNS = ("request", "response")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, response TEXT NOT NULL, created REAL);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT, key TEXT, agent TEXT, item TEXT,
    round INTEGER, kind TEXT, request TEXT, response TEXT, status TEXT, error TEXT,
    attempts INTEGER, latency REAL, prompt_tokens INTEGER, completion_tokens INTEGER,
    time REAL
);
CREATE INDEX IF NOT EXISTS ledger_key ON ledger (key);
"""


def recorded_calls(ledger_path: Path) -> int:
    """How many calls the ledger at ``ledger_path`` records (0 when there is none, or when a
    run stopped before its first call)."""
    if not ledger_path.exists():
        return 0
    try:
        with closing(sqlite3.connect(ledger_path, timeout=30)) as connection:
            tables = connection.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger'"
            ).fetchone()[0]
            if not tables:
                return 0
            return int(connection.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])
    except sqlite3.DatabaseError as error:
        raise InputError(
            f"{ledger_path}: not a monoculture ledger ({error}); choose another -o folder or "
            "move the file away."
        ) from None


def request_key(identity: str, request: dict[str, Any]) -> str:
    """sha256 of the canonical request (everything that changes the output, seed included)
    and the endpoint's identity (backend and model, not its address or key)."""
    canonical = json.dumps(
        {"identity": identity, "request": request},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _signing_key_from_environment() -> SigningKey | None:
    if os.environ.get(KEY_ENV):
        return load_signing_key(env=KEY_ENV)
    if os.environ.get(KEY_FILE_ENV):
        return load_signing_key(path=Path(os.environ[KEY_FILE_ENV]))
    return None


class Store:
    """Cache and ledger in one SQLite file each (they may be the same file); the ledger's
    rows also go to the transparency log in the ledger's file (see the module docstring)."""

    def __init__(
        self,
        cache_path: Path,
        ledger_path: Path,
        *,
        signing_key: SigningKey | None = None,
        origin: str | None = None,
    ) -> None:
        # The key is read first, so a bad one stops the run before anything is written.
        self.signing_key = signing_key or _signing_key_from_environment()
        self.origin = origin
        self.checkpoint_path = ledger_path.with_suffix(".checkpoint")
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
        self.cache = self._open(cache_path)
        self.ledger = self._open(ledger_path)
        self.log = TransparencyLog(self.ledger, create=True, source=str(ledger_path))
        self._log_earlier_rows()

    def _log_earlier_rows(self) -> None:
        """A ledger written before the log existed: its rows go into the log first, in order,
        so that the log covers the whole ledger."""
        if self.log.size:
            return
        rows = self.ledger.execute(
            f"SELECT {','.join(LEDGER_COLUMNS)} FROM ledger ORDER BY id"
        ).fetchall()
        if rows:
            self.ledger.execute("BEGIN IMMEDIATE")
            try:
                self.log.append_many(
                    {
                        c: json.loads(v) if c in _JSON_COLUMNS and v is not None else v
                        for c, v in zip(LEDGER_COLUMNS, row, strict=True)
                    }
                    for row in rows
                )
                self.ledger.execute("COMMIT")
            except BaseException:
                self.ledger.execute("ROLLBACK")
                raise

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        return connection

    def close(self) -> None:
        """Sign a checkpoint of the log (when there is a key), then close both files."""
        try:
            if self.signing_key is not None:
                checkpoint = self.log.checkpoint(self.origin or self.signing_key.name)
                self.checkpoint_path.write_text(
                    sign_checkpoint(checkpoint, self.signing_key), encoding="utf-8"
                )
        finally:
            self.cache.close()
            self.ledger.close()

    def lookup(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Cached responses for the keys that have one (in batches of 500)."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            for key, response in self.cache.execute(
                f"SELECT key, response FROM cache WHERE key IN ({marks})", batch
            ):
                found[key] = json.loads(response)
        return found

    def remember(self, key: str, response: dict[str, Any]) -> None:
        self.cache.execute(
            "INSERT OR REPLACE INTO cache VALUES (?, ?, ?)",
            (key, json.dumps(response), time.time()),
        )

    def remember_all(self, responses: dict[str, dict[str, Any]]) -> None:
        """Cache several responses in one transaction."""
        if not responses:
            return
        now = time.time()
        self.cache.execute("BEGIN")
        self.cache.executemany(
            "INSERT OR REPLACE INTO cache VALUES (?, ?, ?)",
            [(key, json.dumps(response), now) for key, response in responses.items()],
        )
        self.cache.execute("COMMIT")

    def record(self, rows: list[dict[str, Any]]) -> None:
        """Append ledger rows, to the ledger table and to the transparency log (one
        transaction: both or neither)."""
        if not rows:
            return
        columns = LEDGER_COLUMNS
        values = [
            tuple(json.dumps(r.get(c)) if c in _JSON_COLUMNS else r.get(c) for c in columns)
            for r in rows
        ]
        self.ledger.execute("BEGIN")
        try:
            self.ledger.executemany(
                f"INSERT INTO ledger ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                values,
            )
            self.log.append_many({c: r.get(c) for c in columns} for r in rows)
            self.ledger.execute("COMMIT")
        except BaseException:
            self.ledger.execute("ROLLBACK")
            raise
