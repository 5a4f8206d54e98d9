"""The bridge to LLM agents: an environment played through the planning protocol gives the
same trajectories as `play` when the agents answer with the parametric policy's numbers.

The dispatcher here is a small stand-in for the runner's: it serves each planned `Call` by
writing the policy's number as an LLM-style sentence and parsing it with the runner's own
`outcome_from_response` (the answer extraction real agents go through).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monoculture.agents.spec import AgentSpec
from monoculture.environments import (
    Commons,
    CommonsPolicy,
    DriftingEstimation,
    EnvironmentTopology,
    EstimationPolicy,
    Policy,
    make_environment,
    play,
    seed_streams,
)
from monoculture.errors import InputError
from monoculture.experiment.calls import outcome_from_response
from monoculture.experiment.outcomes import outcome_table
from monoculture.tasks.items import Item
from monoculture.topologies.protocol import Call, Outcome, Swarm


def _swarm(n: int, temperature: float = 0.0) -> Swarm:
    return Swarm(
        tuple(
            AgentSpec(name=f"w{k}", backend="scripted", temperature=temperature, seed=k)
            for k in range(n)
        )
    )


def _tons(value: float) -> str:
    return f"I'll take {int(value)} tons."


def _estimate(value: float) -> str:
    return f"My estimate is {np.format_float_positional(value)}."


def _serve(
    topology: EnvironmentTopology,
    policy: Policy,
    swarm: Swarm,
    say: Callable[[float], str],
    items: Sequence[Item] = (),
) -> list[list[Outcome]]:
    """Plan, serve and feed back every step; each agent answers the policy's action for its
    (run, agent), computed for all runs at once as `play` does."""
    environment = topology.environment
    _, policy_rng = seed_streams(topology.seed)
    memory = policy.reset(topology.runs, environment.n_agents, policy_rng)
    index = {agent.name: k for k, agent in enumerate(swarm.workers)}
    history: list[list[Outcome]] = []
    while (calls := topology.next_calls(items, swarm, history)) is not None:
        state = topology.state(items, swarm, history)
        actions = policy.act(environment.observe(state), memory, policy_rng)
        history.append(
            [
                outcome_from_response(
                    call,
                    {"text": say(actions[int(call.item.attrs["run"]), index[call.agent.name]])},
                    "ok",
                )
                for call in calls
            ]
        )
    return history


def _same(bridge: pd.DataFrame, reference: pd.DataFrame) -> None:
    columns = list(reference.columns)
    pd.testing.assert_frame_equal(
        bridge[columns].reset_index(drop=True), reference.reset_index(drop=True)
    )


def test_bridge_plays_the_commons_like_play() -> None:
    # Catches a bridge that draws the environment's randomness differently (the stochastic
    # assignment), applies answers to the wrong (run, agent), or asks collapsed runs again.
    environment = Commons()
    policy = CommonsPolicy(fraction=1.4, sigma=0.5, homogeneity=0.6)
    topology = EnvironmentTopology(environment, runs=8, seed=3)
    swarm = _swarm(5)
    history = _serve(topology, policy, swarm, _tons)
    reference = play(environment, policy, runs=8, seed=3).table
    assert reference["collapsed"].any()
    assert not reference["collapsed"].all()
    assert (reference.groupby(["run", "step"])["action"].sum() > 50).any()  # oversubscribed
    _same(topology.trajectory((), swarm, history), reference)
    replayed = topology.tables(outcome_table([o for step in history for o in step]))
    _same(replayed["environment"], reference)
    assert replayed["environment"]["answer"].iloc[0] == str(int(reference["action"].iloc[0]))


def test_bridge_plays_the_estimation_like_play() -> None:
    # Catches peers' estimates or observations out of step between text and numbers.
    environment = DriftingEstimation(n_agents=4, n_steps=6, network="small_world", degree=2)
    policy = EstimationPolicy(peer_weight=0.5, bias_scale=3.0, noise=1.0)
    topology = EnvironmentTopology(environment, runs=5, seed=9)
    swarm = _swarm(4)
    history = _serve(topology, policy, swarm, _estimate)
    reference = play(environment, policy, runs=5, seed=9).table
    _same(topology.trajectory((), swarm, history), reference)
    replayed = topology.tables(outcome_table([o for step in history for o in step]))
    _same(replayed["environment"], reference)


def test_calls_follow_the_protocol() -> None:
    # Catches unstable item ids, wrong rounds, letters on numeric actions, and runs that
    # share one sampling seed (identical first answers in every run).
    topology = EnvironmentTopology(Commons(), runs=3, seed=0)
    swarm = _swarm(5, temperature=0.7)
    calls = topology.next_calls((), swarm, [])
    assert calls is not None
    assert len(calls) == 15
    first = calls[0]
    assert isinstance(first, Call)
    assert (first.kind, first.round, first.letters, first.item.options) == ("answer", 0, (), ())
    assert [c.item.id for c in calls[::5]] == ["commons-r0-s0", "commons-r1-s0", "commons-r2-s0"]
    assert first.item.answer == "10"  # the sustainable harvest, for numeric extraction
    seeds = {(c.item.attrs["run"], c.agent.name): c.agent.seed for c in calls}
    assert seeds[("0", "w1")] == 1
    assert seeds[("2", "w1")] == 1 + 2 * 7919
    assert len(set(seeds.values())) == 15
    assert "Key memories of John" in first.user_prompt


def test_ended_runs_get_no_calls_and_the_end_is_none() -> None:
    topology = EnvironmentTopology(Commons(), runs=2, seed=0)
    swarm = _swarm(5)
    # Run 0 takes 20 each (collapse); run 1 takes 10 each.
    calls = topology.next_calls((), swarm, [])
    assert calls is not None
    answers = ["20" if c.item.attrs["run"] == "0" else "10" for c in calls]
    history = [
        [outcome_from_response(c, {"text": a}, "ok") for c, a in zip(calls, answers, strict=True)]
    ]
    nxt = topology.next_calls((), swarm, history)
    assert nxt is not None
    assert {c.item.id for c in nxt} == {"commons-r1-s1"}
    while nxt is not None:
        history.append([outcome_from_response(c, {"text": "10"}, "ok") for c in nxt])
        nxt = topology.next_calls((), swarm, history)
    assert len(history) == 12


def test_failed_and_messy_answers_are_invalid_with_the_default() -> None:
    # Catches a failed call or an unparseable answer turned into a guessed action.
    topology = EnvironmentTopology(Commons(), runs=1, seed=0)
    swarm = _swarm(5)
    calls = topology.next_calls((), swarm, [])
    assert calls is not None
    texts = ["I'll take 12 tons.", "twelve", "-3", "", "Answer: 7"]
    outcomes = [
        outcome_from_response(c, {"text": t}, "ok") for c, t in zip(calls, texts, strict=True)
    ]
    outcomes[4] = Outcome(calls[4], None, None, "failed", error="timeout")
    table = topology.trajectory((), swarm, [outcomes])
    assert table["valid"].tolist() == [True, False, False, False, False]
    assert table["action"].tolist() == [12, 0, 0, 0, 0]
    assert table["agent_name"].tolist() == ["w0", "w1", "w2", "w3", "w4"]


def test_an_exponent_beyond_the_range_is_invalid_through_the_runner() -> None:
    # Catches the runner's extraction reading the first digits of "1e9" as 1 (a valid
    # harvest) instead of a number far outside the range.
    topology = EnvironmentTopology(Commons(), runs=1, seed=0)
    swarm = _swarm(5)
    calls = topology.next_calls((), swarm, [])
    assert calls is not None
    outcomes = [outcome_from_response(c, {"text": "1e9"}, "ok") for c in calls]
    assert not topology.trajectory((), swarm, [outcomes])["valid"].any()


def test_repetitions_get_their_own_ids_and_randomness() -> None:
    topology = EnvironmentTopology(DriftingEstimation(n_agents=2, n_steps=2), runs=1, seed=0)
    swarm = _swarm(2)
    plain = topology.next_calls([Item("q", "?", "1")], swarm, [])
    again = topology.next_calls([Item("q#2", "?", "1")], swarm, [])
    assert plain is not None
    assert again is not None
    assert plain[0].item.id == "estimation-r0-s0"
    assert again[0].item.id == "estimation-r0-s0#2"
    assert plain[0].user_prompt != again[0].user_prompt  # other observation noise


def test_the_swarm_must_match_the_environment() -> None:
    topology = EnvironmentTopology(Commons(), runs=1)
    with pytest.raises(InputError, match="n_agents"):
        topology.next_calls((), _swarm(3), [])
    with pytest.raises(InputError, match="runs"):
        EnvironmentTopology(Commons(), runs=0)


def test_from_config_reads_the_environment_table() -> None:
    workers = [AgentSpec(name=f"w{k}") for k in range(3)]

    def config(section: Any) -> Any:
        return SimpleNamespace(name="exp", environment=section, worker_specs=lambda: workers)

    topology = EnvironmentTopology.from_config(
        config({"kind": "commons", "runs": 4, "seed": 7, "communication": False})
    )
    assert (topology.runs, topology.seed) == (4, 7)
    assert isinstance(topology.environment, Commons)
    assert topology.environment.n_agents == 3  # the workers
    assert topology.environment.communication is False
    with pytest.raises(InputError, match=r"\[environment\]"):
        EnvironmentTopology.from_config(config(None))
    with pytest.raises(InputError, match="unknown option"):
        EnvironmentTopology.from_config(config({"kind": "commons", "fish": 3}))
    with pytest.raises(InputError, match="kind"):
        make_environment("forest")  # type: ignore[arg-type]


def test_tables_of_an_experiment_without_environment_calls_is_empty() -> None:
    topology = EnvironmentTopology(Commons(), runs=1)
    assert topology.tables(pd.DataFrame())["environment"].empty


@pytest.mark.parametrize("high", [0, 5, 9, 10, 37, 99, 100, 101, 250, 1000, 1234])
def test_the_whole_number_grammar_allows_exactly_the_range(high: int) -> None:
    # Catches a grammar that lets a model run on past the range ("728000" when 0-100 tons
    # are asked: seen with SmolLM2), or one that forbids a valid request. The GBNF
    # alternatives here are literals, classes and counts, so they read as a Python regex;
    # every text from 0 to 2,999, with and without a leading zero, is checked.
    import re

    from monoculture.environments._llm import _number_grammar
    from monoculture.environments._protocol import ActionSpace

    grammar = _number_grammar(ActionSpace(low=0, high=high, integer=True))
    body = grammar.removeprefix("root ::= ")
    pattern = re.compile(
        "|".join(f"(?:{alt.replace(chr(34), '').replace(' ', '')})" for alt in body.split(" | "))
    )
    for k in range(3000):
        assert bool(pattern.fullmatch(str(k))) == (k <= high), (k, grammar)
        assert not pattern.fullmatch(f"0{k}"), (k, grammar)
