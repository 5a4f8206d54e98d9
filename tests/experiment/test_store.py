"""The cache and the ledger on their own: keys, batches, transactions, the row layout.

Fast (no run, no server): these are the tests `make mutation` runs against the store's
mutants. Expected values are written out by hand (the canonical JSON, the row tuples).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from monoculture.errors import InputError
from monoculture.experiment.store import Store, recorded_calls, request_key

LEDGER_COLUMNS = (
    "run, key, agent, item, round, kind, request, response, status, error, attempts, "
    "latency, prompt_tokens, completion_tokens, time"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "a" / "b" / "cache.sqlite", tmp_path / "c" / "d" / "ledger.sqlite")
    yield opened
    opened.close()


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as connection:
        return list(connection.execute(sql))


def test_request_key_is_the_sha256_of_the_hand_written_canonical_json() -> None:
    # Catches a changed separator, unsorted keys, ensure_ascii=True or another envelope/hash.
    canonical = '{"identity":"local:m","request":{"a":[1,2],"b":"é","seed":3}}'
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert request_key("local:m", {"seed": 3, "b": "é", "a": [1, 2]}) == expected


def test_a_missing_ledger_file_records_no_calls(tmp_path: Path) -> None:
    # Catches `if ledger_path.exists()` inverted or a non-zero default.
    assert recorded_calls(tmp_path / "absent.sqlite") == 0
    assert not (tmp_path / "absent.sqlite").exists()  # and reading it creates nothing


def test_a_database_without_a_ledger_table_records_no_calls(tmp_path: Path) -> None:
    # Catches the table check dropped (SELECT on a missing table) or its name changed.
    path = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (x)")
        connection.execute("CREATE TABLE cache (key TEXT)")  # a table, but not the ledger
        connection.commit()
    assert recorded_calls(path) == 0


def test_recorded_calls_counts_the_ledger_rows(tmp_path: Path, store: Store) -> None:
    # Catches a count off by one, a count of the cache instead, or rows not committed.
    store.record([{"run": "r", "status": "ok"}, {"run": "r", "status": "failed"}])
    store.record([{"run": "r", "status": "cached"}])
    store.remember("k", {"x": 1})
    assert recorded_calls(tmp_path / "c" / "d" / "ledger.sqlite") == 3
    assert recorded_calls(tmp_path / "a" / "b" / "cache.sqlite") == 0  # the cache has no ledger


def test_a_file_that_is_not_sqlite_is_an_input_error(tmp_path: Path) -> None:
    # Catches the DatabaseError handler removed (a raw sqlite3 error), a silent 0, or the
    # message (which says how to fix it) dropped or changed.
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(InputError) as raised:
        recorded_calls(path)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: not a monoculture ledger \(.+\); choose another -o folder "
        r"or move the file away\.",
        str(raised.value),
    )


def test_store_creates_missing_folders_and_both_tables(tmp_path: Path, store: Store) -> None:
    # Catches mkdir(parents=...) dropped for either file (two missing levels each) and the
    # schema not executed on either file.
    for path in (tmp_path / "a" / "b" / "cache.sqlite", tmp_path / "c" / "d" / "ledger.sqlite"):
        tables = {row[0] for row in _rows(path, "SELECT name FROM sqlite_master")}
        assert {"cache", "ledger"} <= tables


def test_reopening_an_existing_store_keeps_its_contents(tmp_path: Path) -> None:
    # Catches `CREATE TABLE` without IF NOT EXISTS, or mkdir without exist_ok.
    paths = (tmp_path / "cache.sqlite", tmp_path / "ledger.sqlite")
    first = Store(*paths)
    first.remember("k", {"v": 1})
    first.record([{"run": "r"}])
    first.close()
    second = Store(*paths)
    try:
        assert second.lookup(["k"]) == {"k": {"v": 1}}
    finally:
        second.close()
    assert recorded_calls(paths[1]) == 1


def test_both_files_use_write_ahead_logging(store: Store) -> None:
    # Catches the WAL pragma dropped or misspelled (a killed run could lose commits).
    for connection in (store.cache, store.ledger):
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_close_closes_both_connections(store: Store) -> None:
    # Catches close() leaving either connection open.
    store.close()
    for connection in (store.cache, store.ledger):
        with pytest.raises(sqlite3.ProgrammingError):
            connection.execute("SELECT 1")


def test_lookup_returns_only_the_keys_that_are_cached(store: Store) -> None:
    # Catches lookup returning misses as None/{} or dropping hits.
    store.remember("a", {"text": "A", "n": [1, 2]})
    store.remember("b", {"text": "B"})
    assert store.lookup(["b", "missing", "a"]) == {
        "a": {"text": "A", "n": [1, 2]},
        "b": {"text": "B"},
    }
    assert store.lookup([]) == {}


def test_lookup_accepts_an_iterator_and_repeated_keys(store: Store) -> None:
    # Catches the list() / dict.fromkeys() de-duplication dropped (a generator read twice).
    store.remember("a", {"v": 1})
    assert store.lookup(key for key in ["a", "a", "a"]) == {"a": {"v": 1}}


def test_lookup_finds_every_key_across_batch_boundaries(store: Store) -> None:
    # Catches a batch size or slice off by one (key 500 or 1000 lost) and a wrong range step.
    keys = [f"key-{i:04d}" for i in range(1201)]
    store.remember_all({key: {"i": i} for i, key in enumerate(keys)})
    found = store.lookup(["absent", *keys])
    assert len(found) == 1201
    assert all(found[key] == {"i": i} for i, key in enumerate(keys))


def test_remember_replaces_an_entry_and_stamps_the_time(tmp_path: Path, store: Store) -> None:
    # Catches INSERT without OR REPLACE (an IntegrityError) or the time column not written.
    before = time.time()
    store.remember("k", {"v": 1})
    store.remember("k", {"v": 2})
    assert store.lookup(["k"]) == {"k": {"v": 2}}
    rows = _rows(tmp_path / "a" / "b" / "cache.sqlite", "SELECT key, response, created FROM cache")
    assert len(rows) == 1
    assert rows[0][:2] == ("k", '{"v": 2}')  # JSON text, never pickle
    assert before <= rows[0][2] <= time.time()


def test_remember_all_writes_every_entry_in_one_commit(tmp_path: Path, store: Store) -> None:
    # Catches a missing COMMIT (entries invisible to another reader) or entries dropped.
    store.remember("a", {"v": 0})
    before = time.time()
    store.remember_all({"a": {"v": 1}, "b": {"v": 2}})
    rows = _rows(
        tmp_path / "a" / "b" / "cache.sqlite",
        "SELECT key, response, created FROM cache ORDER BY key",
    )
    assert [row[:2] for row in rows] == [("a", '{"v": 1}'), ("b", '{"v": 2}')]
    assert all(before <= row[2] <= time.time() for row in rows)
    assert rows[0][2] == rows[1][2]  # one timestamp for the batch


def test_remember_all_and_record_accept_nothing(tmp_path: Path, store: Store) -> None:
    # Catches the empty-input guard dropped (executemany of nothing is fine, but the
    # transaction must still leave the connection usable) or inverted (real data skipped).
    store.remember_all({})
    store.record([])
    assert not store.cache.in_transaction
    assert not store.ledger.in_transaction
    store.remember_all({"k": {"v": 1}})
    store.record([{"run": "r"}])
    assert store.lookup(["k"]) == {"k": {"v": 1}}
    assert recorded_calls(tmp_path / "c" / "d" / "ledger.sqlite") == 1


def test_record_writes_every_column_and_json_encodes_request_and_response(
    tmp_path: Path, store: Store
) -> None:
    # Catches a column dropped or swapped, request/response stored unencoded, or
    # another column JSON-encoded.
    row = {
        "run": "run-1",
        "key": "abc",
        "agent": "agent-0",
        "item": "q1",
        "round": 2,
        "kind": "answer",
        "request": {"messages": [{"role": "user", "content": "hi"}], "seed": 1},
        "response": {"text": "B"},
        "status": "ok",
        "error": None,
        "attempts": 1,
        "latency": 0.25,
        "prompt_tokens": 11,
        "completion_tokens": 3,
        "time": 1700000000.5,
        "ignored": "not a column",
    }
    store.record([row, {"run": "run-1", "status": "failed", "error": "HTTP 500"}])
    rows = _rows(
        tmp_path / "c" / "d" / "ledger.sqlite", f"SELECT {LEDGER_COLUMNS} FROM ledger ORDER BY id"
    )
    assert rows[0] == (
        "run-1",
        "abc",
        "agent-0",
        "q1",
        2,
        "answer",
        '{"messages": [{"role": "user", "content": "hi"}], "seed": 1}',
        '{"text": "B"}',
        "ok",
        None,
        1,
        0.25,
        11,
        3,
        1700000000.5,
    )
    # A missing request or response is stored as JSON null; other missing fields as NULL.
    assert rows[1] == ("run-1", None, None, None, None, None, "null", "null", "failed", "HTTP 500",
                       None, None, None, None, None)  # fmt: skip


def test_record_commits_so_another_reader_sees_the_rows(tmp_path: Path, store: Store) -> None:
    # Catches the COMMIT dropped (rows lost when the process is killed).
    store.record([{"run": "r", "status": "ok"}])
    assert not store.ledger.in_transaction
    assert _rows(tmp_path / "c" / "d" / "ledger.sqlite", "SELECT run, status FROM ledger") == [
        ("r", "ok")
    ]


def test_cache_and_ledger_may_share_one_file(tmp_path: Path) -> None:
    # Catches the two connections confused (cache rows written to the ledger or back).
    path = tmp_path / "both.sqlite"
    shared = Store(path, path)
    try:
        shared.remember("k", {"v": 1})
        shared.record([{"run": "r"}])
        assert shared.lookup(["k"]) == {"k": {"v": 1}}
    finally:
        shared.close()
    assert _rows(path, "SELECT COUNT(*) FROM cache") == [(1,)]
    assert _rows(path, "SELECT COUNT(*) FROM ledger") == [(1,)]


def test_entries_are_json_not_pickle(tmp_path: Path, store: Store) -> None:
    # Catches a serialiser swap: the stored text must parse as the same JSON.
    response = {"text": "é", "logprobs": [-0.5, -1.25], "nested": {"a": None}}
    store.remember("k", response)
    (stored,) = _rows(tmp_path / "a" / "b" / "cache.sqlite", "SELECT response FROM cache")[0]
    assert json.loads(stored) == response


# --- the transparency log the ledger's rows also go to -----------------------------------


def test_every_ledger_row_is_also_a_record_of_the_log(tmp_path: Path, store: Store) -> None:
    # Catches rows written to the ledger table only, records missing a column, request and
    # response logged as JSON strings instead of values, or another order than the ledger's.
    from monoculture.ledger import TransparencyLog

    rows = [
        {"run": "r", "agent": "a", "request": {"seed": 1}, "response": {"text": "B"}, "x": 1},
        {"run": "r", "agent": "b", "status": "failed", "latency": 0.5},
    ]
    store.record(rows[:1])
    store.record(rows[1:])
    with TransparencyLog.open(tmp_path / "c" / "d" / "ledger.sqlite", read_only=True) as log:
        records = [json.loads(record) for _, record in log.records()]
        assert log.verify().ok
    assert len(records) == 2
    assert records[0]["request"] == {"seed": 1}
    assert records[0]["response"] == {"text": "B"}
    assert "x" not in records[0]  # only the ledger's columns
    assert set(records[1]) == set(LEDGER_COLUMNS.split(", "))
    assert (records[1]["agent"], records[1]["latency"], records[1]["error"]) == ("b", 0.5, None)


def test_a_row_the_log_refuses_writes_nothing(tmp_path: Path, store: Store) -> None:
    # Catches the ledger row committed while the log refused it (then the two disagree), or
    # the transaction left open.
    with pytest.raises(InputError, match="NaN"):
        store.record([{"run": "r"}, {"run": "r", "latency": float("nan")}])
    assert not store.ledger.in_transaction
    assert recorded_calls(tmp_path / "c" / "d" / "ledger.sqlite") == 0
    assert store.log.size == 0
    store.record([{"run": "r"}])
    assert store.log.size == 1


def test_a_ledger_from_before_the_log_is_logged_when_opened(tmp_path: Path) -> None:
    # Catches old rows left out of the log (it would then cover only part of the ledger).
    path = tmp_path / "ledger.sqlite"
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(
            "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT, key TEXT, "
            "agent TEXT, item TEXT, round INTEGER, kind TEXT, request TEXT, response TEXT, "
            "status TEXT, error TEXT, attempts INTEGER, latency REAL, prompt_tokens INTEGER, "
            "completion_tokens INTEGER, time REAL);"
            "INSERT INTO ledger (run, request, response) VALUES ('old', '{\"a\": 1}', 'null');"
            "INSERT INTO ledger (run, request, response) VALUES ('old2', NULL, NULL);"
        )
    opened = Store(tmp_path / "cache.sqlite", path)
    try:
        opened.record([{"run": "new"}])
        records = [json.loads(r) for _, r in opened.log.records()]
    finally:
        opened.close()
    assert [r["run"] for r in records] == ["old", "old2", "new"]
    assert records[0]["request"] == {"a": 1}


def test_close_signs_a_checkpoint_with_the_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches the key variable ignored, the checkpoint written elsewhere, or signed before
    # the last rows.
    from monoculture.ledger import SigningKey, open_checkpoint

    key = SigningKey.generate("test/store")
    monkeypatch.setenv("MONOCULTURE_LEDGER_KEY", key.to_text())
    opened = Store(tmp_path / "cache.sqlite", tmp_path / "ledger.sqlite")
    opened.record([{"run": "r"}, {"run": "r"}])
    opened.record([{"run": "r"}])
    opened.close()
    checkpoint = open_checkpoint((tmp_path / "ledger.checkpoint").read_text(), key.verifier())
    assert (checkpoint.origin, checkpoint.size) == ("test/store", 3)


def test_a_key_file_named_in_the_environment_signs_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches MONOCULTURE_LEDGER_KEY_FILE ignored.
    from monoculture.ledger import SigningKey, open_checkpoint, write_key_pair

    key = SigningKey.generate("test/file")
    write_key_pair(key, tmp_path / "k.key", tmp_path / "k.pub")
    monkeypatch.delenv("MONOCULTURE_LEDGER_KEY", raising=False)
    monkeypatch.setenv("MONOCULTURE_LEDGER_KEY_FILE", str(tmp_path / "k.key"))
    Store(tmp_path / "cache.sqlite", tmp_path / "ledger.sqlite").close()
    assert open_checkpoint((tmp_path / "ledger.checkpoint").read_text(), key.verifier()).size == 0


def test_no_key_no_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches a checkpoint written (unsigned, or with a made-up key) when none was given.
    monkeypatch.delenv("MONOCULTURE_LEDGER_KEY", raising=False)
    monkeypatch.delenv("MONOCULTURE_LEDGER_KEY_FILE", raising=False)
    Store(tmp_path / "cache.sqlite", tmp_path / "ledger.sqlite").close()
    assert not (tmp_path / "ledger.checkpoint").exists()


def test_a_bad_key_stops_the_store_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches a bad key found only at close (after a whole run), and a message quoting it.
    monkeypatch.setenv("MONOCULTURE_LEDGER_KEY", "PRIVATE+KEY+x+00000000+c2VjcmV0c2VjcmV0")
    with pytest.raises(InputError, match="MONOCULTURE_LEDGER_KEY") as raised:
        Store(tmp_path / "a" / "cache.sqlite", tmp_path / "a" / "ledger.sqlite")
    assert "c2VjcmV0" not in str(raised.value)
    assert not (tmp_path / "a").exists()
