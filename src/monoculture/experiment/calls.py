"""A planned call as a chat request, a response as a parsed outcome, and scripted answers.

`Call` and `Outcome` themselves belong to the topologies' planning protocol.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy.stats import norm

from monoculture.tasks.extraction import extract_answer
from monoculture.topologies.protocol import Call, Outcome

__all__ = ["Call", "Outcome", "build_request", "outcome_from_response", "scripted_response"]


def build_request(call: Call, *, constrain: bool) -> dict[str, Any]:
    """The chat-completions request; everything in it belongs to the cache key."""
    agent = call.agent
    messages = []
    if agent.constitution:
        messages.append({"role": "system", "content": agent.constitution})
    messages.append({"role": "user", "content": call.user_prompt})
    request: dict[str, Any] = {
        "model": agent.model,
        "messages": messages,
        "temperature": agent.temperature,
        # Greedy decoding ignores the seed: leaving it out of the canonical request lets
        # deterministic agents that differ only in seed share one call, as they share output.
        "seed": 0
        if agent.temperature == 0
        else agent.seed + (7919 if call.kind == "control" else 0),
        "max_tokens": 1 if (constrain and call.letters) else agent.max_tokens,
        "logprobs": True,
        "top_logprobs": 20,
    }
    if constrain and call.letters:
        request["grammar"] = "root ::= " + " | ".join(f'"{letter}"' for letter in call.letters)
    return request


def _letter_probs(
    top: list[dict[str, float]], letters: tuple[str, ...], chosen: str | None
) -> dict[str, float] | None:
    """Probabilities over the allowed letters from the first token's top log-probabilities
    (renormalised over the letters seen); one-hot on the chosen letter when none is seen."""
    if not letters:
        return None
    mass = dict.fromkeys(letters, 0.0)
    if top:
        for token, logprob in top[0].items():
            key = token.strip()
            if key in mass:
                mass[key] += math.exp(logprob)
    total = sum(mass.values())
    if total <= 0:
        return None if chosen is None else {k: float(k == chosen) for k in letters}
    return {k: v / total for k, v in mass.items()}


def outcome_from_response(
    call: Call, response: dict[str, Any], status: Literal["ok", "cached"]
) -> Outcome:
    text = response.get("text")
    if call.kind == "judge":
        words = (text or "").strip().lower()
        answer = "yes" if words.startswith("yes") else "no" if words.startswith("no") else None
        probs = None
    else:
        answer = extract_answer(call.item, text)
        probs = _letter_probs(response.get("top_logprobs") or [], call.letters, answer)
    return Outcome(
        call,
        answer,
        probs,
        status,
        prompt_tokens=int(response.get("prompt_tokens", 0)),
        completion_tokens=int(response.get("completion_tokens", 0)),
    )


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def scripted_response(call: Call, peer_answers: Sequence[str]) -> dict[str, Any]:
    """A synthetic latent-factor agent: right when ability + shared blind spot + own noise
    say so; wrong answers go to the item's shared lure; with peers, it follows their
    plurality with probability 0.3. Deterministic given agent, item, round and seed."""
    agent, item = call.agent, call.item
    if call.kind == "judge":
        return {"text": "yes" if _unit(agent.name, item.id, call.judged_agent) < 0.7 else "no"}
    blind = norm.ppf(_unit("blind", item.id))
    own = norm.ppf(_unit(agent.name, item.id, agent.seed, call.kind))
    # P(margin > 0) = accuracy; agents share the blind spot with weight `loading`.
    margin = (
        norm.ppf(agent.accuracy) - np.sqrt(agent.loading) * blind + np.sqrt(1 - agent.loading) * own
    )
    choices = item.letters or (item.answer,)
    gold = item.answer
    if margin > 0:
        text = gold
    else:
        wrong = [c for c in choices if c != gold] or ["unknown"]
        text = wrong[int(_unit("lure", item.id) * len(wrong))]
    if peer_answers and _unit(agent.name, item.id, call.round, "conform") < 0.3:
        values, counts = np.unique(peer_answers, return_counts=True)
        text = str(values[int(np.argmax(counts))])
    return {"text": text, "top_logprobs": [], "prompt_tokens": 0, "completion_tokens": 0}
