"""A planned call as a request, a response as a parsed outcome, and scripted answers.

`Call` and `Outcome` themselves belong to the topologies' planning protocol.

A request is an envelope that records how the answer was asked for, and holds the bodies
sent to the server; all of it is the cache key and goes into the ledger::

    {"elicitation": "letter" | "text" | "cloze",
     "option_order": "fixed" | "shuffle_item" | "shuffle_agent",   # None for cloze
     "order": [2, 0, 3, 1],           # order[k]: original index of the option shown at k
     "prompt_style": "chat" | "completion",
     "endpoint": "chat/completions" | "completions",
     "cloze": "grammar" | "echo",     # cloze only: how the options are scored
     "options": ["Rome", ...],        # cloze only: the options scored, in the item's order
     "bodies": [{...}, ...]}          # one body; cloze: one per option

Elicitation, per agent:

- ``letter``: the options with letters; the answer is a letter (a grammar of the letters
  constrains it on llama.cpp servers), its probabilities from the first token's top
  log-probabilities.
- ``text``: the options as a list; the answer is an option's text (a grammar of the option
  strings); probabilities from the first token's top log-probabilities, each token's mass
  shared by the options it begins.
- ``cloze``: the question alone, ending in ``Answer:`` (as lm-evaluation-harness scores
  multiple choice), and each option scored by the summed log-probability of its tokens as
  the continuation, normalised (`ClozeNormalisation`). On a llama.cpp server (``cloze =
  "grammar"``) each option is tokenized by the server (``/tokenize``, no model evaluation;
  remembered per option text) and one completions request per option forces exactly those
  tokens with a grammar of token ids (``<[id]>``) and ``max_tokens`` = their number; each
  generated token's log-probability is computed by llama.cpp from the model's logits before
  the grammar applies: the model's own probability of that token, along the option's
  canonical tokenization (a grammar of the option's text instead lets the greedy path take
  other tokens, " a torch" as " ", "a", " to", "r", "ch", and scores that path). Cost: per
  option one tokenize request and one completion that evaluates its n tokens less one; the
  question is evaluated once per call, as the requests follow one another on the server
  (its prompt cache). Other servers (``cloze = "echo"``): one request per option with
  ``echo`` and ``logprobs`` (the prompt's log-probabilities, as vLLM and OpenAI's legacy
  completions return them). Greedy agents answer the best-scored
  option; others sample it from the softmax of the scores over their temperature, with a
  draw fixed by the agent, its seed, the item and the round. Agents that differ only in
  temperature or seed share the same requests.

Answers are always recorded as the item's own option letters, whatever order the options
were shown in; the displayed position goes into `Outcome.position`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy.stats import norm

from monoculture.agents.spec import ClozeNormalisation
from monoculture.tasks.extraction import extract_answer, normalise
from monoculture.tasks.items import LETTERS, Item
from monoculture.topologies.protocol import Call, Outcome

__all__ = [
    "Call",
    "ClozeMethod",
    "Outcome",
    "build_request",
    "cloze_scores",
    "continuation_logprob",
    "outcome_from_response",
    "scripted_response",
]

ClozeMethod = Literal["grammar", "echo"]
"""How a cloze option's log-likelihood is read: forced with a grammar (llama.cpp), or the
prompt's log-probabilities echoed back (vLLM, OpenAI-style completions)."""

_TEXT_TOKENS = 64  # enough for any option forced by a grammar; generation stops at its end
_TOP = 20


def _gbnf(text: str) -> str:
    """``text`` as a GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _choice_grammar(choices: Sequence[str]) -> str:
    return "root ::= " + " | ".join(_gbnf(choice) for choice in choices)


def _seed(call: Call) -> int:
    # Greedy decoding ignores the seed: leaving it out of the canonical request lets
    # deterministic agents that differ only in seed share one call, as they share output.
    agent = call.agent
    if agent.temperature == 0:
        return 0
    return agent.seed + (7919 if call.kind == "control" else 0)


def _form(call: Call) -> Literal["letter", "text", "cloze"]:
    if call.kind in ("judge", "predict") or not call.item.options:
        return "letter"
    return call.form


def completion_prompt(call: Call) -> str:
    """The plain-text prompt of a base model (and of every cloze call): the constitution,
    then the question, ending in ``Answer:``."""
    head = f"{call.agent.constitution}\n\n" if call.agent.constitution else ""
    body = call.user_prompt
    if not body.rstrip().endswith("Answer:"):
        body = f"{body}\nAnswer:"
    return head + body


def build_request(call: Call, *, constrain: bool, cloze: ClozeMethod = "grammar") -> dict[str, Any]:
    """The request envelope of ``call`` (see the module docstring); everything in it belongs
    to the cache key."""
    agent, form = call.agent, _form(call)
    shown = call.shown
    style = "completion" if form == "cloze" else agent.prompt_style
    # Cloze shows no options, so no order: agents that differ only in it share requests.
    envelope: dict[str, Any] = {
        "elicitation": form,
        "option_order": None if form == "cloze" else agent.option_order,
        "order": None
        if form == "cloze"
        else list(call.order) or list(range(len(call.item.options))),
        "prompt_style": style,
        "endpoint": "chat/completions" if style == "chat" else "completions",
    }
    if form == "cloze":
        envelope["cloze"] = cloze
        envelope["options"] = list(call.item.options)
        envelope["bodies"] = [_cloze_body(call, option, cloze) for option in call.item.options]
        return envelope
    body: dict[str, Any] = {"model": agent.model}
    if style == "chat":
        messages = []
        if agent.constitution:
            messages.append({"role": "system", "content": agent.constitution})
        messages.append({"role": "user", "content": call.user_prompt})
        body["messages"] = messages
    else:
        body["prompt"] = completion_prompt(call)
    body["temperature"] = agent.temperature
    body["seed"] = _seed(call)
    choices: list[str] = []
    if constrain and call.kind != "judge" and call.letters:
        choices = list(call.letters) if form == "letter" else list(shown.options)
    lead = "" if style == "chat" else " "  # a completion continues "Answer:" after a space
    if form == "letter" and choices:
        # A chat model's letter is one token; a completion's " A" may be two (" ", "A").
        body["max_tokens"] = 1 if style == "chat" else 4
    elif choices:
        body["max_tokens"] = _TEXT_TOKENS
    else:
        body["max_tokens"] = agent.max_tokens
    if style == "chat":
        body["logprobs"] = True
        body["top_logprobs"] = _TOP
    else:
        body["logprobs"] = _TOP
    if choices:
        body["grammar"] = _choice_grammar([lead + choice for choice in choices])
    elif constrain and call.item.attrs.get("answer_grammar"):
        # A numeric action (an environment's step): the server keeps to a number instead of
        # starting a sentence that the token limit cuts before the number.
        body["grammar"] = call.item.attrs["answer_grammar"]
    envelope["bodies"] = [body]
    return envelope


def _cloze_body(call: Call, option: str, method: ClozeMethod) -> dict[str, Any]:
    """One option's completions body. For ``grammar`` the option is added where it is sent
    (`monoculture.experiment.dispatch.perform`): its tokens, from the server's tokenizer,
    become a grammar of token ids, and ``max_tokens`` their number."""
    context = completion_prompt(call)
    if method == "echo":
        return {
            "model": call.agent.model,
            "prompt": context + " " + option,
            "max_tokens": 1,
            "temperature": 0,
            "echo": True,
            "logprobs": 1,
        }
    return {
        "model": call.agent.model,
        "prompt": context,
        "temperature": 0,
        "seed": 0,
        "logprobs": 1,
    }


def continuation_logprob(tokens: Sequence[Sequence[Any]], continuation: str) -> tuple[float, int]:
    """The summed log-probability of the leading tokens that spell ``continuation``, and
    their number; tokens after it (the end of generation) are ignored.

    ``tokens`` holds ``(text, logprob, ...)`` per token. Raises `ValueError` when they do
    not spell it (a server that did not follow the grammar).

    Example:
        >>> continuation_logprob([(" Par", -0.5, 0), ("is", -0.25, 4), ("", -3.0, 6)], " Paris")
        (-0.75, 2)
    """
    text, total, count = "", 0.0, 0
    for token in tokens:
        if text == continuation:
            break
        text += str(token[0])
        total += float(token[1])
        count += 1
    if text != continuation or count == 0:
        raise ValueError(
            f"the tokens returned spell {text!r}, not the option {continuation!r}: the server "
            "did not follow the grammar. Cloze on this endpoint needs a llama.cpp server, or "
            'cloze = "echo" for a server that echoes the prompt\'s log-probabilities.'
        )
    return total, count


def cloze_scores(
    response: dict[str, Any], options: Sequence[str], normalisation: ClozeNormalisation
) -> np.ndarray:
    """Each option's score from a cloze response (options in the order they were sent):
    its continuation log-probability divided by its number of tokens (``tokens``), its
    length in UTF-8 bytes (``bytes``) or nothing (``none``)."""
    scored = response.get("options") or []
    if len(scored) != len(options):
        raise ValueError(f"a cloze response needs {len(options)} options; got {len(scored)}.")
    scores = np.empty(len(options))
    for k, (option, entry) in enumerate(zip(options, scored, strict=True)):
        continuation = " " + option
        total, count = continuation_logprob(entry.get("tokens") or [], continuation)
        if normalisation == "tokens":
            scores[k] = total / count
        elif normalisation == "bytes":
            scores[k] = total / len(continuation.encode())
        elif normalisation == "none":
            scores[k] = total
        else:
            raise ValueError(
                f"normalisation must be 'tokens', 'bytes' or 'none'; got {normalisation!r}."
            )
    return scores


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max())
    return np.asarray(shifted / shifted.sum())


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


def _text_probs(
    top: list[dict[str, float]], item: Item, chosen: str | None
) -> dict[str, float] | None:
    """Probabilities over the options (by letter) from the first token's top
    log-probabilities: each token's mass shared equally by the options it begins."""
    mass = dict.fromkeys(item.letters, 0.0)
    for token, logprob in (top[0] if top else {}).items():
        piece = token.strip()
        if not piece:
            continue
        starts = [
            k
            for k, option in zip(item.letters, item.options, strict=True)
            if option.startswith(piece)
        ]
        for k in starts:
            mass[k] += math.exp(logprob) / len(starts)
    total = sum(mass.values())
    if total <= 0:
        return None if chosen is None else {k: float(k == chosen) for k in item.letters}
    return {k: v / total for k, v in mass.items()}


def _text_answer(item: Item, text: str | None) -> str | None:
    """The letter of the option ``text`` gives: the option itself, else the one option it
    contains; None otherwise."""
    if text is None:
        return None
    said = normalise(text)
    for letter, option in zip(item.letters, item.options, strict=True):
        if normalise(option) == said:
            return letter
    inside = [
        letter
        for letter, option in zip(item.letters, item.options, strict=True)
        if normalise(option) in said
    ]
    return inside[0] if len(inside) == 1 else None


def _original(call: Call, displayed: str | None) -> tuple[str | None, int | None]:
    """The item's own letter of a displayed letter, and the displayed position."""
    if displayed is None or displayed not in call.letters:
        return displayed, None
    position = LETTERS.index(displayed)
    index = call.order[position] if call.order else position
    return LETTERS[index], position


def _unshuffled(call: Call, probs: dict[str, float] | None) -> dict[str, float] | None:
    if probs is None or not call.order:
        return probs
    return {LETTERS[call.order[LETTERS.index(k)]]: v for k, v in probs.items()}


def _cloze_outcome(
    call: Call, response: dict[str, Any], status: Literal["ok", "cached"]
) -> Outcome:
    # Options are scored in the item's own order: no order is shown, and none may matter.
    original = cloze_scores(response, call.item.options, call.agent.cloze_normalisation)
    probs = _softmax(original)
    agent = call.agent
    if agent.temperature == 0:
        index = int(np.argmax(original))
    else:
        sampling = _softmax(original / agent.temperature)
        draw = _unit("cloze", agent.name, agent.seed, call.item.id, call.round, call.kind)
        index = min(int(np.searchsorted(np.cumsum(sampling), draw, side="right")), len(probs) - 1)
    letters = call.item.letters
    return Outcome(
        call,
        letters[index],
        {letter: float(p) for letter, p in zip(letters, probs, strict=True)},
        status,
        prompt_tokens=int(response.get("prompt_tokens", 0)),
        completion_tokens=int(response.get("completion_tokens", 0)),
    )


def outcome_from_response(
    call: Call, response: dict[str, Any], status: Literal["ok", "cached"]
) -> Outcome:
    """The parsed answer of ``call`` from its stored response (see the module docstring)."""
    text = response.get("text")
    form = _form(call)
    position: int | None = None
    if call.kind == "judge":
        words = (text or "").strip().lower()
        answer = "yes" if words.startswith("yes") else "no" if words.startswith("no") else None
        probs = None
    elif form == "cloze" and call.agent.backend != "scripted":
        return _cloze_outcome(call, response, status)
    elif not call.item.options:
        answer = extract_answer(call.item, text)
        probs = None
    else:
        shown = call.shown
        top = response.get("top_logprobs") or []
        if form == "text" and call.agent.backend != "scripted":
            displayed = _text_answer(shown, text)
            shown_probs = _text_probs(top, shown, displayed)
        else:
            displayed = extract_answer(shown, text)
            shown_probs = _letter_probs(top, call.letters, displayed)
        answer, position = _original(call, displayed)
        probs = _unshuffled(call, shown_probs)
        if form == "cloze":  # a scripted cloze agent: no options were shown
            position = None
    return Outcome(
        call,
        answer,
        probs,
        status,
        prompt_tokens=int(response.get("prompt_tokens", 0)),
        completion_tokens=int(response.get("completion_tokens", 0)),
        position=position,
    )


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def scripted_response(call: Call, peer_answers: Sequence[str]) -> dict[str, Any]:
    """A synthetic latent-factor agent: right when ability + shared blind spot + own noise
    say so; wrong answers go to the item's shared lure; with peers, it follows their
    plurality with probability 0.3. Deterministic given agent, item, round and seed. It
    answers with the letter it is shown the option under."""
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
    if call.order and text in item.letters:
        text = LETTERS[list(call.order).index(item.letters.index(text))]
    return {"text": text, "top_logprobs": [], "prompt_tokens": 0, "completion_tokens": 0}
