"""Elicitation (letter, text, cloze), option order and the second embedded model.

The real-model tests use both embedded models on loopback (greedy, a few items); each skips,
with the reason, only where its package is not installed (`make test` installs both).
"""

from __future__ import annotations

import asyncio
import importlib.util
import warnings
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from monoculture.agents.http import ChatClient, _parse
from monoculture.agents.local import EMBEDDED_MODELS, LocalModelServer
from monoculture.agents.spec import AgentSpec
from monoculture.errors import UndefinedMetricWarning
from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.experiment.calls import (
    build_request,
    cloze_scores,
    continuation_logprob,
    outcome_from_response,
)
from monoculture.experiment.dispatch import perform
from monoculture.experiment.store import request_key
from monoculture.metrics import error_consistency, position_bias
from monoculture.tasks.items import Item
from monoculture.topologies.protocol import ask, option_order

ITEM = Item("cap-1", "What is the capital of France?", "B", ("Rome", "Paris", "Oslo", "Madrid"))


def _needs(model: str) -> pytest.MarkDecorator:
    package = EMBEDDED_MODELS[model].package
    module = package.replace("-", "_")
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None,
        reason=f"the package {package} is not installed (make test installs it)",
    )


SMOL, GEMMA = "SmolLM2-135M-Instruct", "gemma-3-270m"
BOTH = [pytest.param(SMOL, marks=_needs(SMOL)), pytest.param(GEMMA, marks=_needs(GEMMA))]


# -- requests and parsing, no model -----------------------------------------------------------


def test_the_request_records_elicitation_and_order_and_keys_on_them() -> None:
    # Catches: a shuffled and a fixed call sharing a cache entry, or the order left out of
    # the ledger's request.
    fixed = ask(AgentSpec(name="a"), ITEM, 0)
    shuffled = ask(AgentSpec(name="a", option_order="shuffle_agent"), ITEM, 0)
    assert shuffled.order
    assert sorted(shuffled.order) == [0, 1, 2, 3]
    one, two = build_request(fixed, constrain=True), build_request(shuffled, constrain=True)
    assert one["elicitation"] == "letter"
    assert one["order"] == [0, 1, 2, 3]
    assert two["option_order"] == "shuffle_agent"
    assert two["order"] == list(shuffled.order)
    assert request_key("local:m", one) != request_key("local:m", two)
    assert one["bodies"][0]["grammar"] == 'root ::= "A" | "B" | "C" | "D"'


def test_text_and_completion_requests() -> None:
    text = ask(AgentSpec(name="a", elicitation="text"), ITEM, 0)
    body = build_request(text, constrain=True)["bodies"][0]
    assert body["grammar"] == 'root ::= "Rome" | "Paris" | "Oslo" | "Madrid"'
    assert "- Paris" in body["messages"][-1]["content"]
    base = ask(AgentSpec(name="b", prompt_style="completion", constitution="Be brief."), ITEM, 0)
    request = build_request(base, constrain=True)
    assert request["endpoint"] == "completions"
    assert request["bodies"][0]["prompt"].startswith("Be brief.\n\nWhat is the capital")
    assert request["bodies"][0]["prompt"].endswith("\nAnswer:")
    assert request["bodies"][0]["grammar"] == 'root ::= " A" | " B" | " C" | " D"'


def test_cloze_requests_show_no_order_and_are_shared_across_orders() -> None:
    # Cloze shows no options: agents that differ only in option order share one request.
    one = ask(AgentSpec(name="a", elicitation="cloze"), ITEM, 0)
    two = ask(AgentSpec(name="a", elicitation="cloze", option_order="shuffle_agent"), ITEM, 0)
    assert one.order == two.order == ()
    requests = [build_request(c, constrain=True) for c in (one, two)]
    assert requests[0] == requests[1]
    assert requests[0]["options"] == list(ITEM.options)
    assert len(requests[0]["bodies"]) == 4
    assert requests[0]["bodies"][0]["prompt"] == "Question: What is the capital of France?\nAnswer:"
    echo = build_request(one, constrain=False, cloze="echo")["bodies"][1]
    assert echo["echo"] is True
    assert echo["prompt"].endswith("Answer: Paris")


def test_shuffled_answers_are_unshuffled_with_their_position() -> None:
    # Shown order (2, 0, 1, 3): Oslo, Rome, Paris, Madrid. "C" shown is Paris: gold "B".
    agent = AgentSpec(name="a", option_order="shuffle_agent")
    call = ask(agent, ITEM, 0)
    call = type(call)(**{**call.__dict__, "order": (2, 0, 1, 3)})
    top = [{"C": np.log(0.7), "A": np.log(0.2), "D": np.log(0.1)}]
    outcome = outcome_from_response(call, {"text": "C", "top_logprobs": top}, "ok")
    assert (outcome.answer, outcome.position) == ("B", 2)
    assert outcome.probs == pytest.approx({"A": 0.0, "B": 0.7, "C": 0.2, "D": 0.1})
    text_call = type(call)(**{**call.__dict__, "form": "text"})
    text = outcome_from_response(text_call, {"text": "Paris", "top_logprobs": []}, "ok")
    assert (text.answer, text.position) == ("B", 2)


def test_per_item_shuffles_agree_across_agents_and_per_agent_ones_do_not() -> None:
    items = [Item(f"q{k}", "?", "A", ("w", "x", "y", "z")) for k in range(20)]
    a, b = (AgentSpec(name=n, option_order="shuffle_item") for n in "ab")
    assert [option_order(a, i) for i in items] == [option_order(b, i) for i in items]
    c, d = (AgentSpec(name=n, option_order="shuffle_agent") for n in "cd")
    assert [option_order(c, i) for i in items] != [option_order(d, i) for i in items]
    firsts = {option_order(c, i)[0] for i in items}
    assert firsts == {0, 1, 2, 3}  # every option gets shown first


def test_cloze_scores_and_their_normalisations() -> None:
    tokens = [[" Par", -0.5, 0], ["is", -0.25, 4], ["", -3.0, 6]]
    assert continuation_logprob(tokens, " Paris") == (-0.75, 2)
    with pytest.raises(ValueError, match="did not follow the grammar"):
        continuation_logprob([[" P", -1.0, 0]], " Paris")
    response = {"options": [{"tokens": tokens}, {"tokens": [[" Rome", -2.0, 0]]}]}
    options = ["Paris", "Rome"]
    assert cloze_scores(response, options, "none").tolist() == [-0.75, -2.0]
    assert cloze_scores(response, options, "tokens").tolist() == [-0.375, -2.0]
    assert cloze_scores(response, options, "bytes").tolist() == [-0.75 / 6, -2.0 / 5]


def test_legacy_completions_logprobs_are_parsed_with_offsets() -> None:
    # The form vLLM and OpenAI's legacy completions return with echo.
    body = (
        '{"choices": [{"text": "Answer: Paris", "logprobs": {"tokens": ["Answer", ":", '
        '" Paris"], "token_logprobs": [null, -0.5, -1.25], "top_logprobs": [null, {":": -0.5}, '
        '{" Paris": -1.25}], "text_offset": [0, 6, 7]}}], "usage": {"prompt_tokens": 3}}'
    )
    result = _parse(body)
    assert result.tokens[1:] == [(":", -0.5, 6), (" Paris", -1.25, 7)]
    assert np.isnan(result.tokens[0][1])


def test_grids_name_agents_by_elicitation_and_order() -> None:
    config = ExperimentConfig.model_validate(
        {
            "agents": {"backend": "scripted", "elicitations": ["letter", "cloze"]},
            "more_agents": [{"backend": "scripted", "option_orders": ["shuffle_agent"]}],
        }
    )
    names = [a.name for a in config.worker_specs()]
    assert names == [
        "scripted|plain|T0|s0",
        "scripted|plain|T0|s0|cloze",
        "scripted|plain|T0|s0|shuffle_agent",
    ]
    with pytest.raises(ValueError, match=r"\[\[more_agents\]\] share 1"):
        ExperimentConfig.model_validate(
            {"agents": {"backend": "scripted"}, "more_agents": [{"backend": "scripted"}]}
        )
    with pytest.raises(ValueError, match="needs multiple-choice items"):
        ExperimentConfig.model_validate(
            {"tasks": {"form": "free"}, "agents": {"elicitations": ["cloze"]}}
        )
    with pytest.raises(ValueError, match="neither an embedded model"):
        ExperimentConfig.model_validate({"agents": {"models": ["llama-7b"]}})
    auto = ExperimentConfig.model_validate({"agents": {"models": [SMOL, GEMMA]}})
    assert [a.prompt_style for a in auto.worker_specs()] == ["chat", "completion"]


def test_scripted_agents_in_shuffled_order_record_positions(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "bootstrap": 0,
            "tasks": {"n_items": 12, "families": ["easy"]},
            "agents": {"backend": "scripted", "option_orders": ["fixed", "shuffle_agent"]},
        }
    )
    result = run_experiment(config, tmp_path)
    table = result.outcomes
    assert table["position"].notna().all()
    assert table["gold_position"].notna().all()
    right = table["correct"] == 1
    assert (table.loc[right, "position"] == table.loc[right, "gold_position"]).all()
    shuffled = table[table["option_order"] == "shuffle_agent"]
    assert (shuffled["order"] != "").all()
    assert position_bias(result.responses[0])["answered"].tolist() == [12, 12]


# -- the real models -----------------------------------------------------------------------


def _post(client: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json=body)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _token_by_token(base_url: str, context: str, continuation: str) -> float:
    """The continuation's log-likelihood from the server's own top log-probabilities, one
    token at a time: the context's tokens plus the continuation's first k as the prompt,
    one token generated freely, the next continuation token looked up among the top 5000."""
    root = base_url.removesuffix("/v1")
    with httpx.Client(timeout=120) as client:
        prefix = _post(client, f"{root}/tokenize", {"content": context, "add_special": True})
        ids = _post(client, f"{root}/tokenize", {"content": continuation, "add_special": False})
        prompt = [int(t) for t in prefix["tokens"]]
        total = 0.0
        for token in (int(t) for t in ids["tokens"]):
            body = {"prompt": prompt, "max_tokens": 1, "temperature": 0, "n_probs": 5000}
            answer = _post(client, f"{root}/completion", body)
            (first, *_) = answer["completion_probabilities"]
            found = {int(e["id"]): float(e["logprob"]) for e in first["top_logprobs"]}
            assert token in found, "the continuation's token is not among the top 5000"
            total += found[token]
            prompt.append(token)
    return total


@pytest.mark.slow
@pytest.mark.parametrize("model", BOTH)
def test_cloze_equals_the_token_by_token_log_likelihood(model: str) -> None:
    # Two independent paths to the same figure: the cloze request (tokens forced by a
    # grammar of token ids, log-probabilities before the grammar) and the server's own top
    # log-probabilities read one position at a time. llama.cpp's batched prompt evaluation
    # and its one-token decoding sum in different orders: on these Q4 models the two differ
    # by up to about 0.01 nats (measured 0.007 for Gemma), hence the tolerance.
    agent = AgentSpec(name="a", model=model, elicitation="cloze", prompt_style="completion")
    item = Item("q", "What is the opposite of hot?", "A", ("cold", "warm", "very cold"))
    call = ask(agent, item, 0)
    request = build_request(call, constrain=True)
    path = EMBEDDED_MODELS[model].locate()
    with LocalModelServer(path, parallel=1, threads=2) as server:

        async def cloze() -> dict[str, Any] | None:
            async with ChatClient(server.base_url, concurrency=1) as client:
                response, error, _ = await perform(client, request)
                assert error is None
                return response

        response = asyncio.run(cloze())
        assert response is not None
        summed = cloze_scores(response, item.options, "none")
        context = request["bodies"][0]["prompt"]
        for option, value in zip(item.options, summed, strict=True):
            assert value == pytest.approx(
                _token_by_token(server.base_url, context, " " + option), abs=0.02
            )
        outcome = outcome_from_response(call, response, "ok")
    assert outcome.position is None  # cloze shows no options
    assert outcome.probs is not None
    assert outcome.answer == max(outcome.probs, key=outcome.probs.__getitem__)  # greedy


@pytest.mark.slow
@pytest.mark.parametrize("model", BOTH)
def test_cloze_on_the_easy_family_beats_chance(model: str, tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "bootstrap": 0,
            "tasks": {"n_items": 24, "families": ["capitals", "opposites", "objects"]},
            "agents": {"models": [model], "elicitations": ["cloze", "letter"]},
            "endpoint": {"parallel": 1, "concurrency": 2},
        }
    )
    table = run_experiment(config, tmp_path).outcomes
    assert (table["status"] != "failed").all()
    accuracy = table.groupby("elicitation")["correct"].mean()
    # Measured: 1.0 (SmolLM2) and 1.0 (Gemma) under cloze on these 24 items; at chance
    # (0.25), 16 of 24 right has probability below 1e-5.
    assert accuracy["cloze"] >= 16 / 24
    assert accuracy["cloze"] > accuracy["letter"]


@pytest.mark.slow
def test_shuffled_order_lowers_error_consistency_where_the_models_are_at_chance(
    tmp_path: Path,
) -> None:
    # Agents of one model share its preferred position; in a shared order their errors then
    # coincide (a shared blind spot), shuffled per agent they do not. (Across the two models
    # the preferred positions differ on these items: SmolLM2 the first, Gemma the last, so
    # a shared order makes their errors anti-correlated instead.)
    for model in (SMOL, GEMMA):
        if importlib.util.find_spec(EMBEDDED_MODELS[model].package.replace("-", "_")) is None:
            pytest.skip(f"the package {EMBEDDED_MODELS[model].package} is not installed")
    plain = {"name": "plain", "prompt": "You are a helpful assistant. Answer the question."}
    careful = {"name": "careful", "prompt": "You are careful. Check each step first."}
    config = ExperimentConfig.model_validate(
        {
            "bootstrap": 0,
            "tasks": {"n_items": 30, "families": ["arithmetic", "dates"], "seed": 3},
            "agents": {
                "models": [SMOL, GEMMA],
                "constitutions": [plain, careful],
                "option_orders": ["fixed", "shuffle_agent"],
            },
            "endpoint": {"parallel": 1, "concurrency": 2},
        }
    )
    result = run_experiment(config, tmp_path)
    responses = result.responses[0]
    attrs = responses.agent_attrs.reset_index(drop=True)
    kappas: dict[tuple[str, str], float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for (model, order), group in attrs.groupby(["model", "option_order"]):
            pair = responses.select(agents=group.index.to_numpy())
            kappas[(str(model), str(order))] = float(error_consistency(pair).to_numpy()[0, 1])
            if order == "fixed":  # each answers mostly one position
                assert (position_bias(pair)["top_share"] >= 0.5).all()
    accuracy = result.outcomes.groupby("model")["correct"].mean()
    assert (accuracy < 0.45).all(), accuracy  # at chance (0.25) or near it
    for model in (SMOL, GEMMA):
        assert kappas[(model, "fixed")] > kappas[(model, "shuffle_agent")] + 0.1, kappas
