"""``monoculture ledger``: exit 0 when the log verifies, 1 when it does not (naming the first
bad record), 2 on bad input with the fix."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner

from monoculture.cli.ledger import app
from monoculture.ledger import TransparencyLog, canonical_json
from tests.ledger.reference import ref_leaf, ref_mth

runner = CliRunner()
command = typer.main.get_command(app)


def _invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(command, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


RECORDS = [{"agent": f"agent-{i}", "item": "q1", "answer": "AB"[i % 2]} for i in range(7)]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with TransparencyLog.open(path, create=True) as log:
        log.append_many(RECORDS)
    return path


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    code, _, err = _invoke("keygen", "--name", "example.org/swarm", "-o", tmp_path / "swarm")
    assert code == 0, err
    return tmp_path / "swarm.key", tmp_path / "swarm.pub"


def test_keygen_writes_a_private_key_only_its_owner_reads(keys: tuple[Path, Path]) -> None:
    # Catches a private key file readable by the group or others.
    private, public = keys
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert private.read_text().startswith("PRIVATE+KEY+example.org/swarm+")
    assert public.read_text().startswith("example.org/swarm+")


def test_verify_an_intact_log(log_path: Path) -> None:
    # Catches a wrong root printed, or a non-zero exit for a good log.
    code, out, _ = _invoke("verify", log_path)
    root = ref_mth([canonical_json(r) for r in RECORDS]).hex()
    assert code == 0
    assert f"7 records, root {root}" in out
    assert "without --checkpoint" in out  # says what cannot be seen without one


def test_verify_names_an_edited_record_and_exits_1(log_path: Path) -> None:
    # Catches an edit not found, the wrong record named, or exit status 0 or 2.
    with closing(sqlite3.connect(log_path)) as connection:
        connection.execute(
            "UPDATE tlog_records SET record = replace(record, 'agent-4', 'agent-9') WHERE idx = 4"
        )
        connection.commit()
    code, _, err = _invoke("verify", log_path)
    assert code == 1
    assert "record 4: record 4 does not match its stored hash" in err
    code, out, _ = _invoke("verify", log_path, "--json")
    assert (code, json.loads(out)["first_bad"]) == (1, 4)


def test_checkpoint_then_verify_against_it(
    tmp_path: Path, log_path: Path, keys: tuple[Path, Path]
) -> None:
    # Catches a checkpoint not written in the signed-note layout, or verify ignoring it: a
    # truncation with the head rewritten is seen only through the checkpoint.
    private, public = keys
    cp = tmp_path / "ledger.checkpoint"
    code, _, err = _invoke("checkpoint", log_path, "--key", private, "-o", cp)
    assert code == 0, err
    lines = cp.read_text().split("\n")
    root = ref_mth([canonical_json(r) for r in RECORDS])
    assert lines[:4] == ["example.org/swarm", "7", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith("\u2014 example.org/swarm ")
    code, out, _ = _invoke("verify", log_path, "--checkpoint", cp, "--public-key", public)
    assert code == 0
    assert "first 7 records match the checkpoint" in out
    with closing(sqlite3.connect(log_path)) as connection:  # cut the log and its head to 5
        connection.execute("DELETE FROM tlog_records WHERE idx >= 5")
        connection.execute("DELETE FROM tlog_nodes WHERE id >= (5 << 6)")
        five = ref_mth([canonical_json(r) for r in RECORDS[:5]])
        connection.execute("UPDATE tlog_head SET size = 5, root = ?", (five,))
        connection.commit()
    assert _invoke("verify", log_path)[0] == 0  # self-consistent: invisible without it
    code, _, err = _invoke("verify", log_path, "--checkpoint", cp, "--public-key", public)
    assert code == 1
    assert "record 5:" in err
    assert "truncated" in err


def test_checkpoint_from_an_environment_variable(log_path: Path, keys: tuple[Path, Path]) -> None:
    # Catches --key-env reading the variable's name as the key, or printing the key.
    private, _ = keys
    secret = private.read_text().strip()
    code, out, _ = _invoke(
        "checkpoint", log_path, "--key-env", "LEDGER_TEST_KEY", env={"LEDGER_TEST_KEY": secret}
    )
    assert code == 0
    assert out.startswith("example.org/swarm\n7\n")
    assert secret.split("+", 4)[4] not in out


def test_a_checkpoint_signed_by_another_key_fails(
    tmp_path: Path, log_path: Path, keys: tuple[Path, Path]
) -> None:
    # Catches a signature check that accepts any key.
    private, _ = keys
    cp = tmp_path / "ledger.checkpoint"
    assert _invoke("checkpoint", log_path, "--key", private, "-o", cp)[0] == 0
    assert _invoke("keygen", "--name", "example.org/swarm", "-o", tmp_path / "other")[0] == 0
    code, _, err = _invoke(
        "verify", log_path, "--checkpoint", cp, "--public-key", tmp_path / "other.pub"
    )
    assert code == 1
    assert "not signed by the key" in err


def test_prove_a_record_and_check_it_independently(log_path: Path) -> None:
    # Catches a proof printed for another record, or JSON fields other than the vectors'.
    code, out, _ = _invoke("prove", log_path, "--record", "3", "--json")
    assert code == 0
    proof = json.loads(out)
    assert proof["leafIdx"] == 3
    assert proof["treeSize"] == 7
    assert json.loads(proof["record"]) == RECORDS[3]
    assert base64.b64decode(proof["leafHash"]) == ref_leaf(canonical_json(RECORDS[3]))
    code, out, _ = _invoke("prove", log_path, "--record", "3")
    assert code == 0
    assert "verified: record 3 is in the tree of 7 records" in out


def test_prove_consistency(log_path: Path) -> None:
    # Catches the old and new roots swapped, or another old size proved.
    code, out, _ = _invoke("prove", log_path, "--from", "3", "--json")
    assert code == 0
    proof = json.loads(out)
    bodies = [canonical_json(r) for r in RECORDS]
    assert (proof["size1"], proof["size2"]) == (3, 7)
    assert base64.b64decode(proof["root1"]) == ref_mth(bodies[:3])
    assert base64.b64decode(proof["root2"]) == ref_mth(bodies)
    assert (
        "verified: the first 3 records are a prefix" in _invoke("prove", log_path, "--from", "3")[1]
    )


def test_export_lines_rebuild_the_root(tmp_path: Path, log_path: Path) -> None:
    # Catches an export that re-encodes records (then they no longer hash to the leaves).
    code, out, _ = _invoke("export", log_path)
    assert code == 0
    lines = out.encode().split(b"\n")[:-1]
    assert [json.loads(line) for line in lines] == RECORDS
    assert ref_mth(lines) == ref_mth([canonical_json(r) for r in RECORDS])
    assert _invoke("export", log_path, "-o", tmp_path / "out.jsonl")[0] == 0
    assert (tmp_path / "out.jsonl").read_bytes() == out.encode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "{tmp}/absent.sqlite"], "no such file"),
        (["verify", "{tmp}/text.txt"], "not a monoculture transparency log"),
        (["prove", "{log}", "--record", "7"], "holds records 0 to 6"),
        (["prove", "{log}", "--record", "-1"], "holds records 0 to 6"),
        (["prove", "{log}", "--from", "8"], "--from 8: must be from 1 to the tree size 7"),
        (["prove", "{log}"], "give --record N"),
        (["prove", "{log}", "--record", "1", "--from", "2"], "give --record N"),
        (["checkpoint", "{log}", "--key", "{tmp}/absent.key"], "cannot read the signing key"),
        (["checkpoint", "{log}", "--key", "{tmp}/text.txt"], "not a signing key"),
        (["checkpoint", "{log}"], "--key FILE or --key-env"),
        (["checkpoint", "{log}", "--key-env", "LEDGER_TEST_UNSET"], "is not set"),
        (["verify", "{log}", "--checkpoint", "{tmp}/text.txt"], "go together"),
    ],
)
def test_bad_input_exits_2_with_the_fix(
    tmp_path: Path, log_path: Path, args: list[str], message: str
) -> None:
    # Catches a traceback or exit 1 (a verification failure) for what is the user's input.
    (tmp_path / "text.txt").write_text("not a log, not a key\n" * 50)
    filled = [a.format(tmp=tmp_path, log=log_path) for a in args]
    code, _, err = _invoke(*filled)
    assert code == 2, err
    assert "error:" in err
    assert message in err


def test_prove_an_edited_record_exits_1(log_path: Path) -> None:
    # Catches a proof printed as verified for a record that no longer matches the log (the
    # leaf hash must be recomputed from the stored record, not read from the stored hashes).
    with closing(sqlite3.connect(log_path)) as connection:
        connection.execute(
            "UPDATE tlog_records SET record = replace(record, 'agent-2', 'agent-8') WHERE idx = 2"
        )
        connection.commit()
    code, out, err = _invoke("prove", log_path, "--record", "2")
    assert code == 1
    assert "verified" not in out
    assert "FAIL: record 2: the proof leads to another root" in err
