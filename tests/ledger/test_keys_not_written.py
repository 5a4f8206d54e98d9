"""Keys: a run with an API key in the environment and a signing key writes its calls to the
signed log, and no file it writes holds either key (the Checks' grep test)."""

from __future__ import annotations

import base64
import binascii
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from monoculture.agents.fault_server import FaultServer
from monoculture.cli.run import write_run
from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.ledger import SigningKey, TransparencyLog, open_checkpoint


def test_no_file_a_signed_run_writes_holds_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches the API key stored in a request, a response the server echoed it in, or an
    # error message quoting it; and the signing key written next to its checkpoint, into the
    # log, or into a record. Every file under the run's folder is read as bytes and searched
    # for each key in every form a writer could use (text, base64, hex).
    api_key = "sk-test-" + secrets.token_hex(16)
    monkeypatch.setenv("LEDGER_TEST_API_KEY", api_key)
    signing = SigningKey.generate("test.example/run")
    secret_text = signing.to_text()
    monkeypatch.setenv("MONOCULTURE_LEDGER_KEY", secret_text)
    seed = base64.b64decode(secret_text.split("+", 4)[4])[1:]
    with FaultServer(["echo", "500"]) as server:  # both quote the Authorization header
        config = ExperimentConfig.model_validate(
            {
                "name": "keys",
                "topology": "independent",
                "bootstrap": 0,
                "tasks": {"n_items": 4},
                "agents": {"backend": "openai", "seeds": [0, 1], "temperatures": [0.7]},
                "endpoint": {"base_url": server.base_url, "api_key_env": "LEDGER_TEST_API_KEY"},
            }
        )
        result = run_experiment(config, tmp_path / "run")
        assert server.authorizations[0] == f"Bearer {api_key}"  # the key was really sent
    write_run(result, tmp_path / "run")

    forbidden = {
        "api key": api_key.encode(),
        "signing key text": secret_text.encode(),
        "seed (base64 in the key file)": secret_text.split("+", 4)[4].encode(),
        "seed (hex)": seed.hex().encode(),
        "seed (raw)": seed,
        "seed (base64)": base64.b64encode(seed).rstrip(b"="),
        "seed (hex, upper)": binascii.hexlify(seed).upper(),
    }
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"ledger.sqlite", "ledger.checkpoint", "calls.csv"}
    for path in written:
        content = path.read_bytes()
        for what, value in forbidden.items():
            assert value not in content, f"{what} found in {path.name}"

    # The run's calls are in the log, which its checkpoint signs.
    ledger = tmp_path / "run" / "ledger.sqlite"
    with closing(sqlite3.connect(ledger)) as connection:
        rows = connection.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    checkpoint = open_checkpoint(
        (tmp_path / "run" / "ledger.checkpoint").read_text(), signing.verifier()
    )
    with TransparencyLog.open(ledger, read_only=True) as log:
        assert log.size == rows == checkpoint.size > 0
        assert log.verify(checkpoint=checkpoint).ok
