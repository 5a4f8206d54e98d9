"""A failed run says why, stops early, can be run again, and stores no secret.

Through the command line (in process), against the loopback `FaultServer` or a closed
loopback port; every run here takes well under a second.
"""

from __future__ import annotations

import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.agents.fault_server import FaultServer
from monoculture.cli.main import app
from monoculture.experiment import ExperimentConfig
from monoculture.experiment.store import Store

runner = CliRunner()
KEY_VARIABLE = "MONOCULTURE_TEST_KEY"
KEY = "sk-test-0123456789abcdef"

SCRIPTED = """
name = "scripted"
topology = "independent"
bootstrap = 0
[tasks]
n_items = 6
[agents]
backend = "scripted"
seeds = [0, 1, 2]
"""


def _openai(base_url: str, *, key: bool = False, topology: str = "debate") -> str:
    return (
        f'name = "failing"\ntopology = "{topology}"\nrounds = 2\nbootstrap = 0\n'
        "[tasks]\nn_items = 3\n"
        '[agents]\nbackend = "openai"\nseeds = [0, 1]\ntemperatures = [0.7]\n'
        f'[endpoint]\nbase_url = "{base_url}"\nmax_attempts = 2\n'
        + (f'api_key_env = "{KEY_VARIABLE}"\n' if key else "")
    )


def _run(tmp_path: Path, toml: str, *args: str) -> tuple[int, str, str]:
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(toml)
    result = runner.invoke(app, ["run", str(experiment), "-o", str(tmp_path / "run"), *args])
    return result.exit_code, result.stdout, result.stderr


def _ledger(path: Path) -> list[tuple[str, int, str | None]]:
    # closing(): a connection's own `with` commits but does not close it.
    with closing(sqlite3.connect(path / "ledger.sqlite")) as ledger:
        return list(ledger.execute("SELECT status, attempts, error FROM ledger"))


def _closed_port() -> int:
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("temperatures = [-0.5]", "temperatures must be finite and >= 0"),
        ("seeds = []", "seeds must list at least one value"),
        (
            '[[agents.constitutions]]\nname = "a"\nprompt = "x"\n'
            '[[agents.constitutions]]\nname = "a"\nprompt = "y"',
            "constitution names must be unique",
        ),
        ("seeds = [0, 0]", "every agent needs its own name"),
        ("models = ['a/x', 'b/x']", "every agent needs its own name"),
    ],
)
def test_invalid_agent_grids_stop_before_anything_is_written(
    tmp_path: Path, change: str, message: str
) -> None:
    # Catches: a ValidationError/KeyError traceback mid-run (negative temperature, no seeds),
    # or agents with one name silently merged (repeated constitution names or seeds).
    toml = SCRIPTED.replace("seeds = [0, 1, 2]\n", "") + change + "\n"
    code, stdout, stderr = _run(tmp_path, toml)
    assert code == 2, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (SCRIPTED.replace("n_items = 6", "n_items = 6\nfamilies = ['nope']"), "unknown families"),
        (
            SCRIPTED.replace('"scripted"\nseeds', '"openai"\nseeds')
            + '[supervisors]\nbackend = "local"\n[endpoint]\nbase_url = "http://127.0.0.1:9/v1"\n',
            "one endpoint",
        ),
    ],
)
def test_other_bad_settings_stop_before_anything_is_written(
    tmp_path: Path, toml: str, message: str
) -> None:
    # Catches: items checked only after the ledger was created (an empty ledger left behind),
    # and supervisors whose backend differs from the workers' sent to the workers' endpoint.
    code, _, stderr = _run(tmp_path, toml)
    assert code == 2
    assert message in stderr
    assert not (tmp_path / "run").exists()


def test_an_empty_ledger_does_not_block_a_corrected_rerun(tmp_path: Path) -> None:
    # Catches: "holds an earlier run" for a folder whose run stopped before any call.
    Store(tmp_path / "run" / "cache.sqlite", tmp_path / "run" / "ledger.sqlite").close()
    code, stdout, stderr = _run(tmp_path, SCRIPTED)
    assert code == 0, stdout + stderr
    code, _, stderr = _run(tmp_path, SCRIPTED)  # a ledger with calls still needs --resume
    assert code == 2
    assert "holds an earlier run (18 calls in its ledger)" in stderr


@pytest.mark.parametrize(
    ("fault", "cause", "attempts"),
    [
        ("closed", "connection refused at http://127.0.0.1:{port}/v1/chat/completions", 2),
        ("401", "HTTP 401 from {url}/chat/completions: ", 1),
    ],
)
def test_a_step_in_which_every_call_fails_stops_the_run_with_its_cause(
    tmp_path: Path, fault: str, cause: str, attempts: int
) -> None:
    # Catches: a run that goes on through every round and ends with "the table has no rows",
    # and a 401 retried (or recorded as tried max_attempts times).
    if fault == "closed":
        port = _closed_port()
        url = f"http://127.0.0.1:{port}/v1"
        code, stdout, stderr = _run(tmp_path, _openai(url))
    else:
        with FaultServer(fault=fault) as server:
            port, url = 0, server.base_url
            code, stdout, stderr = _run(tmp_path, _openai(url))
        assert server.received == 6  # each call once, none retried
    assert code == 2, stdout + stderr
    assert "the table has no rows" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "all 6 calls of step 0 failed, so the run stopped" in stderr
    assert cause.format(port=port, url=url) in stderr
    rows = _ledger(tmp_path / "run")
    assert len(rows) == 6  # step 0 only: 2 agents x 3 items
    assert {(status, tries) for status, tries, _ in rows} == {("failed", attempts)}


def test_an_unset_key_variable_is_an_error_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Catches: calls sent without the key (or failing one by one) when the variable is unset.
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with FaultServer() as server:
        code, _, stderr = _run(tmp_path, _openai(server.base_url, key=True))
    assert code == 2
    assert f"variable {KEY_VARIABLE} is not set" in stderr
    assert server.received == 0
    assert not (tmp_path / "run").exists()


def _files_holding(folder: Path, secret: str) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize("fault", ["echo", "401"])
def test_a_key_the_server_echoes_is_never_stored_or_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    # Catches: the API key copied from an answer or an error body into the cache, the
    # ledger, the run's files or the terminal.
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    with FaultServer(fault=fault) as server:
        code, stdout, stderr = _run(
            tmp_path, _openai(server.base_url, key=True, topology="independent")
        )
    assert server.authorizations[0] == f"Bearer {KEY}"
    assert code == (0 if fault == "echo" else 2), stdout + stderr
    assert KEY not in stdout + stderr
    assert _files_holding(tmp_path / "run", KEY) == []
    with sqlite3.connect(tmp_path / "run" / "cache.sqlite") as cache:
        stored = [row[0] for row in cache.execute("SELECT response FROM cache")]
    with sqlite3.connect(tmp_path / "run" / "ledger.sqlite") as ledger:
        recorded = [str(row) for row in ledger.execute("SELECT response, error FROM ledger")]
    assert stored or fault == "401"
    assert all(KEY not in text for text in stored + recorded)
    assert any("Bearer [redacted]" in text for text in stored + recorded + [stderr])


def test_python_callers_get_the_same_rules() -> None:
    # Catches: rules that only the TOML reader applies.
    with pytest.raises(ValueError, match="constitution names must be unique"):
        ExperimentConfig.model_validate(
            {
                "agents": {
                    "backend": "scripted",
                    "constitutions": [{"name": "a", "prompt": "x"}, {"name": "a", "prompt": "y"}],
                }
            }
        )
    with pytest.raises(ValueError, match="not the key itself"):
        ExperimentConfig.model_validate({"endpoint": {"api_key_env": KEY}})
