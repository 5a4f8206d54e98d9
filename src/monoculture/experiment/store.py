"""The cache and the ledger, in SQLite (WAL mode: a killed process loses nothing committed).

Cache: canonical request hash -> response (JSON, never pickle). Ledger: every call and
decision, appended: request (no keys: none are ever put in a request), response, status
(``ok``, ``cached``, ``failed``), error, attempts (the tries actually made; 0 for a call
served from the cache), latency, tokens, time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from monoculture.errors import InputError

__all__ = ["Store", "recorded_calls", "request_key"]

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


class Store:
    """Cache and ledger in one SQLite file each (they may be the same file)."""

    def __init__(self, cache_path: Path, ledger_path: Path) -> None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
        self.cache = self._open(cache_path)
        self.ledger = self._open(ledger_path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        return connection

    def close(self) -> None:
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
        """Append ledger rows (one transaction)."""
        if not rows:
            return
        columns = [
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
        ]
        values = [
            tuple(
                json.dumps(r.get(c)) if c in ("request", "response") else r.get(c) for c in columns
            )
            for r in rows
        ]
        self.ledger.execute("BEGIN")
        self.ledger.executemany(
            f"INSERT INTO ledger ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
            values,
        )
        self.ledger.execute("COMMIT")
