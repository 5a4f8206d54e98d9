"""The cache and the ledger, in SQLite (WAL mode: a killed process loses nothing committed).

Cache: canonical request hash -> response (JSON, never pickle). Ledger: every call and
decision, appended: request (no keys: none are ever put in a request), response, status
(``ok``, ``cached``, ``failed``), error, attempts, latency, tokens, time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["Store", "request_key"]

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
